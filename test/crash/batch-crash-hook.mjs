// Preloaded into a gateway (node --import) by batch-finalize.test.ts: kills the process with
// SIGKILL right after the store has committed a batch row at the moment under test, as a power
// cut or the OOM killer would. TESSERA_CRASH_ON names it: "finalizing" (just after a row with
// that status is committed), or "before-final" (just before a completed, expired or cancelled
// row would be committed: the last row on disk is whatever the batch saved before its end).
import { register } from "tsx/esm/api";

register();
const { KyselyBatchStore } = await import(new URL("../../packages/store/src/batches.ts", import.meta.url).href);
const when = process.env.TESSERA_CRASH_ON;
const put = KyselyBatchStore.prototype.putBatch;
const crash = (b, what) => {
  process.stderr.write(`batch-crash-hook: SIGKILL ${what} ${b.id} as ${b.status}\n`);
  process.kill(process.pid, "SIGKILL");
};
KyselyBatchStore.prototype.putBatch = async function (b) {
  if (when === "before-final" && ["completed", "expired", "cancelled"].includes(b.status)) crash(b, "before saving");
  await put.call(this, b);
  if (when === "finalizing" && b.status === "finalizing") crash(b, "after saving");
};
