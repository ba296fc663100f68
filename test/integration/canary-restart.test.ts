// A canary job open across a gateway crash is still judged as a canary: it is stored when it is
// submitted. Real processes: a provider runs long deterministic wasm jobs (primes), a verifier
// re-runs them, and the passed results become known answers, so canaries are long too; while one
// runs, the gateway is killed (SIGKILL) and restarted on the same store; the provider delivers the
// canary's result to the new gateway, which judges it: its runner's record counts one more canary
// passed. Without the stored canary the restarted gateway would settle it as an ordinary job. Then,
// with the verifier gone (no audit can pass), a restarted gateway still draws canaries from the
// known answers of the audits passed before it.
import { loadBuiltinModule } from "@tessera/runtimes";
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { canaryReads, verificationReads } from "../helpers/verification.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const PRIMES_FUEL_CAP = 16_000_000_000;

describe("an open canary across a gateway restart", () => {
  const net = new TestNetwork();
  let client: TesseraClient;
  let primes = "";
  const flags = [
    "--audit-new-rate",
    "1",
    "--audit-floor",
    "1",
    "--canary-rate",
    "1",
    "--canary-delay-ms",
    "0",
    "--fee-bps",
    "5000",
  ];

  const reads = verificationReads(net);
  const canaries = canaryReads(net);
  const canariesPassed = async (): Promise<number> =>
    (await reads.nodes()).reduce((sum, n) => sum + n.canariesPassed, 0);

  const realJob = async () => {
    const job = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: b64("10000000") },
      // primes of 10⁷ burns 1.40 × 10¹⁰ fuel, every run; without maxFuel the escrow is the 15 s
      // timeout's default fuel, 32 times that, and fees took 80 jobs to pay for one canary
      limits: { timeoutMs: 15_000, maxMemoryMb: 64, maxFuel: PRIMES_FUEL_CAP },
      constraints: { regions: ["p"] },
    });
    await client.waitForJob(job.id, { timeoutMs: 120_000 });
  };

  beforeAll(async () => {
    await net.startGateway(flags);
    await net.startProvider({ region: "p", concurrency: 2, extra: ["--operator", "op-p"] });
    await net.startProvider({ region: "v", concurrency: 2, extra: ["--verify", "--operator", "op-v"] });
    await net.waitForProviders(2);
    client = (await net.consumer()).client;
  }, 120_000);
  afterAll(() => net.stop());

  it("judges a canary that was running when the gateway died", async () => {
    primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    // real jobs, two at a time, until a canary (a copy of one whose audit passed) is running; a
    // canary escrows its job's fuel cap out of fees, so the cap stays near the fuel the job burns
    let submitting = false;
    const running = await until(
      "a canary running",
      async () => {
        const busy = await canaries.jobs("running");
        if (busy.length > 0) return busy;
        if (!submitting) {
          submitting = true;
          // jobs still in flight when the gateway is killed may fail to be waited on: not this test's concern
          void Promise.all([realJob(), realJob()])
            .catch(() => {})
            .then(() => {
              submitting = false;
            });
        }
        return undefined;
      },
      300_000,
    );
    const before = await canariesPassed();

    await net.gateway?.kill("SIGKILL");
    await net.startGateway(flags);
    await net.waitForProviders(2);
    for (const id of running) {
      const status = await until(
        "the canary finished",
        async () => {
          const { job } = await canaries.asOperator<{ job: { status: string; error: string | null } }>(
            `/v1/explorer/jobs/${id}`,
          );
          return ["completed", "failed", "cancelled"].includes(job.status) ? job : undefined;
        },
        120_000,
      );
      expect(status).toMatchObject({ status: "completed" });
    }
    // judged as a canary: counted on the record of the node that ran it
    await until("the canary judged", async () =>
      (await canariesPassed()) >= before + running.length ? true : undefined,
    );
    // Nothing stays open: real jobs still in flight from before the kill settle and may draw new
    // canaries (the rate is 1), so wait for those jobs, then for every canary to finish.
    await until("the real jobs done", async () => (submitting ? undefined : true), 120_000);
    await until(
      "no canary running",
      async () => ((await canaries.jobs("running")).length === 0 ? true : undefined),
      120_000,
    );
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 600_000);

  it("draws canaries after the restart from the known answers it had, with no new audit passed", async () => {
    // no verifier from here on: no audit can pass, so no new known answer can appear
    await net.providers[1]?.kill("SIGKILL");
    const before = { canaries: (await canaries.jobs("completed")).length, fundings: await canaries.fundings() };
    await net.gateway?.kill("SIGKILL");
    await net.startGateway(flags);
    await net.waitForProviders(1);
    // each settled real job draws; a draw funds the canary account or submits a canary
    await until(
      "a canary drawn",
      async () => {
        await realJob();
        const now = { canaries: (await canaries.jobs("completed")).length, fundings: await canaries.fundings() };
        return now.canaries > before.canaries || now.fundings > before.fundings ? true : undefined;
      },
      120_000,
    );
  }, 400_000);
});
