// A provider colluding with a verifier of another operator, end to end with real processes. The
// cheater returns random tokens on every job; the colluding verifier (test/helpers/adversary.ts
// `colluding-verifier`) passes whatever its partners send, with the report of a real check, and
// judges everyone else honestly, so the verifier canaries (known-wrong results from other
// providers) find nothing wrong with it. Two honest verifiers (other threads and batch sizes) and
// an honest provider share the network. With every single pass re-checked by a second verifier
// (`--pass-recheck-rate 1`), no cheated result may pass: each ends slashed, and the colluder, whose
// passes two honest verifiers contradict, collects strikes until it is excluded. When the
// cheater's operator comes back under a new node id (a fresh key, fresh stake), it is caught again.
import type { JobView, TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";
import { decidedAudits, settleJobs, stakedVerifiers, TINY, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000_000_000n;
const verifiers = stakedVerifiers(MIN_STAKE);
/** cheater nodes (one operator, new keys) the colluder is told about; the test stops at the first that suffices */
const MAX_ROUNDS = 4;
/** jobs sent to each cheater node */
const BATCH = 6;

describe("collusion: a cheating provider and a verifier of another operator that passes its results", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  let honestClient: TesseraClient;
  let honestId = "";
  let colluder = "";
  const partnerKeys = Array.from({ length: MAX_ROUNDS }, (_, i) => net.nodeKey(`cheater-${i}`));
  const greedy = (prompt: string, region: string) => ({
    runtime: "llm" as const,
    model: TINY,
    input: { prompt },
    params: { temperature: 0 },
    limits: { maxOutputTokens: 8 },
    constraints: { regions: [region] },
  });

  beforeAll(async () => {
    await net.startGateway([
      ...verifiers.flags,
      "--audit-new-rate",
      "1",
      "--audit-floor",
      "1",
      "--pass-recheck-rate",
      "1",
      // canary jobs off (a canary job could land on the cheater); canary audits after every pass,
      // their known-good results the passed real jobs (with no canary jobs there are no others)
      "--canary-rate",
      "0",
      "--verifier-canary-rate",
      "1",
      "--audited-known-good",
      // a dissent is struck once the majority's canaries vouch for it: let them come back soon
      "--canary-delay-ms",
      "100",
    ]);
    await net.startProvider({
      region: "verifier-a",
      extra: ["--verify", "--operator", "op-a", "--threads", "2", "--batch-size", "7"],
    });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b", "--batch-size", "64"] });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h", "--threads", "1"] });
    colluder = await net.startAdversary("colluding-verifier", {
      operator: "op-c",
      region: "verifier-c",
      verify: true,
      partners: partnerKeys.map((k) => k.id),
    });
    await net.waitForProviders(4);
    honestId = (await until("honest node listed", () => reads.byRegion("honest"))).id;
    await reads.stake(honestId, MIN_STAKE);
    await verifiers.stake(reads, 3);
    honestClient = (await net.consumer()).client;
  }, 120_000);
  afterAll(() => net.stop());

  it("rejects a pass re-check rate outside 0..1 at start-up, naming the setting", async () => {
    const gw = spawnTessera("bad-gateway", ["gateway", "--port", "0", "--db", ":memory:", "--pass-recheck-rate", "2"]);
    expect(await gw.exited).not.toBe(0);
    expect(gw.output()).toMatch(/verification\.passRecheckRate/);
  }, 30_000);

  it("the colluder judges honest work and verifier canaries right, so canaries do not catch it", async () => {
    let round = 0;
    await until(
      "colluder judged a verifier canary",
      async () => {
        const ids = [];
        for (const p of ["The world is", "Once upon a time", "water"])
          ids.push((await honestClient.submitJob(greedy(`${p} ${round}`, "honest"))).id);
        round++;
        const done = await settleJobs(honestClient, ids, async () => false);
        expect(done.every((j) => j.status === "completed")).toBe(true);
        const audits = await decidedAudits(reads, ids);
        expect(audits.every((a) => a.status === "passed")).toBe(true);
        const c = await reads.byId(colluder);
        // the honest verifiers' known-good canaries vouch for their majority later (strikes wait for
        // it); a known-good canary after a fail needs a passed result the verifier did not judge,
        // and three honest jobs can leave none, so the honest ones are vouched for here first
        const vouched = await Promise.all(
          ["verifier-a", "verifier-b"].map(async (r) => ((await reads.byRegion(r))?.goodCanariesPassed ?? 0) >= 1),
        );
        return c && c.canariesPassed >= 1 && vouched.every(Boolean) ? c : undefined;
      },
      180_000,
    );
    const c = await reads.byId(colluder);
    expect(c).toMatchObject({ excluded: false, canariesFailed: 0, verifierStrikes: 0 });
  }, 240_000);

  it("slashes every cheated result, never lets one pass, and excludes the colluding verifier", async () => {
    const started = Date.now();
    const deposit = 10_000n * 1_000_000_000n;
    const consumer = await net.consumer(deposit);
    const cheaters: string[] = [];
    const jobs: JobView[] = [];
    for (const [i, key] of partnerKeys.entries()) {
      const region = `cheat-${i}`;
      const id = await net.startAdversary("random", { operator: "op-x", region, keyFile: key.keyFile });
      expect(id).toBe(key.id);
      cheaters.push(id);
      await until("cheater online", async () => (await reads.byId(id))?.online);
      await reads.stake(id, 10n * MIN_STAKE);
      const ids = [];
      for (let j = 0; j < BATCH; j++) ids.push((await consumer.client.submitJob(greedy(`cheat ${i} ${j}`, region))).id);
      const excluded = async () => (await reads.byId(id))?.excluded === true;
      const done = await settleJobs(consumer.client, ids, excluded);
      jobs.push(...done);
      await decidedAudits(
        reads,
        done.filter((j) => j.status === "completed").map((j) => j.id),
      );
      const view = await until("cheater slashed and excluded", async () => {
        const v = await reads.byId(id);
        return v?.excluded && BigInt(v.slashed) > 0n ? v : undefined;
      });
      expect(BigInt(view.slashed)).toBeGreaterThan(0n);
      if ((await reads.byId(colluder))?.excluded) break;
    }

    // every audited cheated result ended slashed: none passed, whoever was drawn first
    const completed = jobs.filter((j) => j.status === "completed");
    const audits = await decidedAudits(
      reads,
      completed.map((j) => j.id),
    );
    expect(audits.length).toBeGreaterThanOrEqual(cheaters.length);
    expect(audits.filter((a) => a.status !== "slashed")).toEqual([]);
    const verdicts = audits.map((a) => a.verdicts);
    const colluderFirst = verdicts.filter((vs) => vs[0]?.verifierId === colluder).length;
    const colluderLater = verdicts.filter((vs) => vs.slice(1).some((v) => v.verifierId === colluder)).length;
    for (const vs of verdicts)
      for (const v of vs) expect(v.pass, `verdict of ${v.verifierId}`).toBe(v.verifierId === colluder);

    // strikes wait for the honest verifiers' known-good canaries to vouch for their majority
    const c = await until("colluder excluded", async () => {
      const v = await reads.byId(colluder);
      return v?.excluded ? v : undefined;
    });
    console.log(
      `collusion: ${cheaters.length} cheater node(s), ${jobs.length} jobs, ${audits.length} audits, all slashed; ` +
        `colluder drawn first in ${colluderFirst} (its pass re-checked and overturned), later in ${colluderLater}; ` +
        `colluder strikes ${c?.verifierStrikes}, canaries judged right ${c?.canariesPassed}, wrong ${c?.canariesFailed}; ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(c).toMatchObject({ excluded: true, canariesFailed: 0 });
    expect(c?.verifierStrikes).toBeGreaterThanOrEqual(2);
    for (const id of cheaters) expect(await reads.byId(id)).toMatchObject({ excluded: true });

    // the consumer paid for the completed jobs and got back the cost of every slashed one
    const slashedJobs = new Set(audits.map((a) => a.jobId));
    const paid = completed.reduce((s, j) => s + BigInt(j.cost ?? "0"), 0n);
    const refunded = completed.filter((j) => slashedJobs.has(j.id)).reduce((s, j) => s + BigInt(j.cost ?? "0"), 0n);
    const account = await consumer.client.account();
    expect(account.escrow).toBe("0");
    expect(BigInt(account.balance)).toBe(deposit - paid + refunded);

    // honest verifiers were never struck or excluded, the honest provider never slashed
    for (const r of ["verifier-a", "verifier-b"])
      expect(await reads.byRegion(r), r).toMatchObject({ excluded: false, verifierStrikes: 0, canariesFailed: 0 });
    expect(await reads.byId(honestId)).toMatchObject({ excluded: false, slashed: "0", auditsFailed: 0 });
    const ledger = await net.admin.ledger();
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
  }, 300_000);
});
