// Partial cheaters end to end with real processes: a provider that returns random tokens on a
// fraction q of its jobs (q = 0.1 and q = 0.01) and runs the rest honestly, in a network with an
// honest provider (other threads than its verifiers) and two honest verifiers (other threads and
// batch sizes). Jobs go to the cheater's own region until it is slashed and excluded; the job cap
// comes from the audit policy's maths, 1/(q·p·d) jobs expected until caught, times CAP_FACTOR.
// Which jobs it cheats on is seeded (adversary `seed`), so a run is reproducible up to the
// gateway's audit draws; TESSERA_CHEAT_SEED overrides the seed to explore others.
import { expectedJobsUntilCaught, parseAuditPolicy } from "@tessera/core";
import type { JobView, TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { decidedAudits, settleJobs, stakedVerifiers, TINY, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000_000_000n;
const verifiers = stakedVerifiers(MIN_STAKE);
/** the audit probability of every provider here (new rate = floor), below 1 so that cheats do go unaudited */
const AUDIT_RATE = 0.5;
/** the job cap is this many times the expected jobs until caught */
const CAP_FACTOR = 6;
/** jobs submitted to the cheater per round (it runs CHEATER_CONCURRENCY at a time) */
const BATCH = 24;
const CHEATER_CONCURRENCY = 4;
const policy = parseAuditPolicy({ newRate: AUDIT_RATE, floorRate: AUDIT_RATE, afterFailureRate: 1 });

describe("partial cheaters: random output on a fraction q of jobs", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  let honestClient: TesseraClient;
  let honestId = "";

  beforeAll(async () => {
    await net.startGateway([
      ...verifiers.flags,
      "--audit-new-rate",
      String(AUDIT_RATE),
      "--audit-floor",
      String(AUDIT_RATE),
      // only audits catch cheats here (a canary job could land on the cheater and catch it too)
      "--canary-rate",
      "0",
    ]);
    await net.startProvider({
      region: "verifier-a",
      extra: ["--verify", "--operator", "op-a", "--threads", "2", "--batch-size", "7"],
    });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b", "--batch-size", "64"] });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h", "--threads", "1"] });
    await net.waitForProviders(3);
    honestId = (await until("honest node listed", () => reads.byRegion("honest"))).id;
    await reads.stake(honestId, MIN_STAKE);
    await verifiers.stake(reads, 2);
    honestClient = (await net.consumer()).client;
  }, 120_000);
  afterAll(() => net.stop());

  // The cheat schedules (which executed jobs are cheated on) of these seeds are typical ones: seed 8
  // cheats on jobs #10, #12, #18, #20, … at q = 0.1 (16 cheats within the cap of 134), seed 7 (the
  // harness's default) on #78, #93, #138, #248, … at q = 0.01 (15 within the cap of 1,334). The
  // chance that none of them is audited at p = 0.5, failing the test, is 0.5^16 and 0.5^15.
  const cases: Array<[q: number, seed: number]> = [
    [0.1, 8],
    [0.01, 7],
  ];
  for (const [q, defaultSeed] of cases) {
    it(`slashes and excludes a provider cheating on q = ${q} of its jobs before the cap; the honest provider never`, async () => {
      const seed = Number(process.env.TESSERA_CHEAT_SEED ?? defaultSeed);
      const region = `cheat-q${String(q).replace(".", "")}`;
      const started = Date.now();
      const id = await net.startAdversary(`cheat-q=${q}`, {
        operator: `op-cheat-${q}`,
        region,
        seed,
        concurrency: CHEATER_CONCURRENCY,
      });
      const proc = net.providers.at(-1);
      const listed = await until("cheater online", async () => {
        if (proc?.child.exitCode !== null) throw new Error(`cheater exited: ${proc?.output()}`);
        const n = await reads.byId(id);
        return n?.online ? n : undefined;
      });
      // enough stake that every slash is 40 × the job's cost in full, so the refund is the whole cost
      await reads.stake(id, 10n * MIN_STAKE);
      expect(listed.auditProbability).toBe(AUDIT_RATE);
      const cap = Math.ceil(CAP_FACTOR * expectedJobsUntilCaught(policy, q, listed.auditProbability));
      const deposit = 100_000n * 1_000_000_000n;
      const consumer = await net.consumer(deposit);
      const isCaught = async () => {
        const n = await reads.byId(id);
        return n?.excluded === true && BigInt(n.slashed) > 0n;
      };
      const jobs: JobView[] = [];
      const honestJobs: string[] = [];
      let round = 0;
      while (jobs.length < cap && !(await isCaught())) {
        const ids: string[] = [];
        for (let i = 0; i < BATCH && jobs.length + ids.length < cap; i++)
          ids.push(
            (
              await consumer.client.submitJob({
                runtime: "llm",
                model: TINY,
                input: { prompt: `q ${q} job ${jobs.length + ids.length}: once upon a time` },
                params: { temperature: 0 },
                limits: { maxOutputTokens: 6 },
                constraints: { regions: [region] },
              })
            ).id,
          );
        // the honest provider works alongside, greedy and sampled, and is audited as often
        honestJobs.push(
          (
            await honestClient.submitJob({
              runtime: "llm",
              model: TINY,
              input: { prompt: `honest ${q} ${round}` },
              params: round % 2 === 0 ? { temperature: 0 } : { temperature: 0.9, topK: 40, seed: round },
              limits: { maxOutputTokens: 12 },
              constraints: { regions: ["honest"] },
            })
          ).id,
        );
        round++;
        const done = await settleJobs(consumer.client, ids, isCaught);
        jobs.push(...done);
        // wait out this round's audits before the next: verifiers keep up, and the slash is seen
        // in the round of the cheat that caused it
        await decidedAudits(
          reads,
          done.filter((j) => j.status === "completed").map((j) => j.id),
        );
      }
      const view = await until("cheater slashed and excluded", async () =>
        (await isCaught()) ? reads.byId(id) : undefined,
      );
      expect(view?.excluded).toBe(true);

      // every audit of the cheater's jobs, read again now all are decided: the slashed ones are
      // the jobs it cheated on
      const completed = jobs.filter((j) => j.status === "completed");
      const audits = await decidedAudits(
        reads,
        completed.map((j) => j.id),
      );
      const slashedJobs = new Set(audits.filter((a) => a.status === "slashed").map((a) => a.jobId));
      const auditedJobs = new Set(audits.map((a) => a.jobId));
      // the cheater's own log: the n-th job it executed, and which, when it cheated
      const cheats = [...(proc?.output() ?? "").matchAll(/cheating on job #(\d+) \((\w+)\)/g)].map((m) => ({
        n: Number(m[1]),
        jobId: m[2] as string,
      }));
      // slashed exactly for the jobs it cheated on that were audited (detection 1), never for an honest one
      expect(slashedJobs.size).toBeGreaterThanOrEqual(1);
      expect([...slashedJobs].every((j) => cheats.some((c) => c.jobId === j))).toBe(true);
      for (const c of cheats) if (auditedJobs.has(c.jobId)) expect(slashedJobs.has(c.jobId), c.jobId).toBe(true);
      const caught = cheats.findIndex((c) => slashedJobs.has(c.jobId));
      const caughtAt = cheats[caught]?.n ?? Number.POSITIVE_INFINITY;
      // reported by the run (vitest prints it): which cheat was caught, after how many jobs
      console.log(
        `q=${q} seed=${seed} p=${listed.auditProbability}: cap ${cap}; caught on cheat ${caught + 1} of ` +
          `${cheats.length} (executed job #${caughtAt}; cheats #${cheats.map((c) => c.n).join(", #")}); ` +
          `${jobs.length} jobs submitted by the time the slash was seen, ${audits.length} audited, ` +
          `${slashedJobs.size} slashed; ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(caughtAt).toBeLessThanOrEqual(cap);

      // the consumer paid for the completed jobs and got back the cost of each slashed one
      const paid = completed.reduce((s, j) => s + BigInt(j.cost ?? "0"), 0n);
      const refunded = completed.filter((j) => slashedJobs.has(j.id)).reduce((s, j) => s + BigInt(j.cost ?? "0"), 0n);
      expect(refunded).toBeGreaterThan(0n);
      const account = await consumer.client.account();
      expect(account.escrow).toBe("0");
      expect(BigInt(account.balance)).toBe(deposit - paid + refunded);
      // the slash is 40 × each cheated job's cost, out of stake
      const after = await reads.byId(id);
      expect(BigInt(after?.slashed ?? "0")).toBe(40n * refunded);
      expect(BigInt(after?.stake ?? "0")).toBe(10n * MIN_STAKE - 40n * refunded);

      // the honest provider worked through it all, audited, and was never slashed
      const honestDone = await settleJobs(honestClient, honestJobs, async () => false);
      expect(honestDone.every((j) => j.status === "completed")).toBe(true);
      const honestAudits = await decidedAudits(reads, honestJobs);
      expect(honestAudits.every((a) => a.status === "passed")).toBe(true);
      const honest = await reads.byId(honestId);
      expect(honest).toMatchObject({ excluded: false, slashed: "0", auditsFailed: 0 });
      for (const r of ["verifier-a", "verifier-b"])
        expect(await reads.byRegion(r), r).toMatchObject({ excluded: false, verifierStrikes: 0 });
      const ledger = await net.admin.ledger();
      expect(ledger.problems).toEqual([]);
      expect(ledger.ok).toBe(true);
    }, 600_000);
  }
});
