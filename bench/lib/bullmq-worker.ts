// A BullMQ worker process for the job-throughput bench: the peer of one `tessera provider`.
// It runs the same WASM module with the same runtime (createWasmRuntime, a pool of `concurrency`
// worker threads, as the provider builds it) on each job and returns the output.
// argv: redis port, queue name, concurrency.
import { createWasmRuntime } from "@tessera/runtimes";
import { Worker } from "bullmq";
import { reverseModule, specFor } from "./wasm-job.js";

const [port, queue, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg ?? 8);
const mod = await reverseModule();
const runtime = createWasmRuntime({
  fetchModule: async (id) => {
    if (id !== mod.id) throw new Error(`unknown module ${id}`);
    return mod.bytes;
  },
  fetchBlob: () => Promise.reject(new Error("no blobs in this bench")),
  poolSize: concurrency,
});
const signal = new AbortController().signal;

const worker = new Worker<{ input: string }, string>(
  queue!,
  async (job) => {
    const { output } = await runtime.execute(specFor(mod.id, job.data.input), {
      jobId: job.id ?? "",
      attempt: 1,
      signal,
    });
    return (output as { data: string }).data;
  },
  { connection: { host: "127.0.0.1", port: Number(port) }, concurrency },
);
await worker.waitUntilReady();
process.send?.({ type: "ready" });

const stop = async () => {
  await worker.close();
  await runtime.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
