// One stake backs every job a provider holds at once (real processes). A cheater with four slots,
// staked exactly 40 × one job's escrow, is offered four such jobs; every result it returns is
// random tokens, every one is audited (--audit-new-rate 1) and two honest verifiers fail it. Were the
// rule per job, it held all four at once and the first slash took the whole stake: the others were
// slashed by nothing and their consumers got nothing back. Leased one at a time while its stake
// backs no more (core maxJobCost with the jobs in flight and its undecided audits), each job it
// was paid for is slashed the full multiple and its consumer refunded.
import type { JobView, TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { greedyTinyJob, stakedVerifiers, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000n;
const K = 40n;

interface Posting {
  kind: string;
  from: string;
  to: string;
  amount: string;
}

describe("a provider cheating on every job it holds at once", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  const verifiers = stakedVerifiers(MIN_STAKE);
  const consumers: TesseraClient[] = [];
  const consumerIds: string[] = [];
  let cheater: string;

  beforeAll(async () => {
    await net.startGateway([...verifiers.flags, "--audit-new-rate", "1", "--pass-recheck-rate", "0"]);
    await net.startProvider({ region: "verifier-a", extra: ["--verify", "--operator", "op-a"] });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b"] });
    cheater = await net.startAdversary("random", { operator: "cheater", region: "cheat", concurrency: 4 });
    await net.waitForProviders(3);
    await verifiers.stake(reads, 2);
    for (let i = 0; i < 4; i++) {
      const c = await net.consumer();
      consumers.push(c.client);
      consumerIds.push(c.id);
    }
  }, 120_000);
  afterAll(() => net.stop());

  it("is slashed the full multiple for each job it was paid for, and each consumer is refunded", async () => {
    // queued while it holds no stake: their escrow is known before it is staked
    const jobs: JobView[] = [];
    for (const [i, c] of consumers.entries()) jobs.push(await c.submitJob(greedyTinyJob(`The world is ${i}`, "cheat")));
    const escrow = BigInt(jobs[0]?.escrow ?? "0");
    for (const j of jobs) expect(BigInt(j.escrow)).toBe(escrow);
    await reads.stake(cheater, K * escrow);
    await until("cheater slashed and excluded", async () => (await reads.byId(cheater))?.excluded === true, 60_000);
    // every audit of its results decided (a slash of each job it was paid for)
    const paid = await until(
      "its audits decided",
      async () => {
        const done: { job: JobView; consumer: string }[] = [];
        for (const [i, j] of jobs.entries()) {
          const job = await consumers[i]?.getJob(j.id);
          if (job?.status !== "completed") continue;
          const audits = await reads.audits(j.id);
          if (audits[0]?.status !== "slashed") return undefined;
          done.push({ job, consumer: consumerIds[i] as string });
        }
        return done.length > 0 ? done : undefined;
      },
      60_000,
    );
    for (const { job, consumer } of paid) {
      const detail = (await (
        await fetch(`${net.url}/v1/explorer/jobs/${job.id}`, { headers: { authorization: `Bearer ${net.adminKey}` } })
      ).json()) as { postings: Posting[] };
      const slash = detail.postings.filter((p) => p.kind === "slash");
      const taken = slash
        .filter((p) => p.from === `provider:${cheater}:stake`)
        .reduce((a, p) => a + BigInt(p.amount), 0n);
      const cost = BigInt(job.cost ?? "0");
      expect({ job: job.id, taken }).toEqual({ job: job.id, taken: K * cost });
      expect(slash).toContainEqual(
        expect.objectContaining({ to: `consumer:${consumer}:available`, amount: cost.toString() }),
      );
    }
  }, 180_000);
});
