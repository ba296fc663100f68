// Known-wrong canary audits on a real in-memory store, through the real coordinator and canary
// service: a known-wrong result is a real provider's genuine signed result of a job that settled
// undrawn, sent under a template's spec. What a verifier can look up of it (the provider in the
// node list, the job page, its outputHash and units, the public audit record) is what it would see
// of a real audit; the provider is judged on nothing. Real identities and signatures.
import { EventEmitter } from "node:events";
import { CanaryPolicySchema, type JobRecord, stakeDepositEvent } from "@tessera/core";
import { canonicalHash, type JobOutput, signResult, verifyResultSignature } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Engine } from "../engine/engine.js";
import { GroupWriter } from "../engine/writer.js";
import { CanaryService } from "./canaries.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { auditsSent, TEST_MODEL, type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

type Audit = ReturnType<typeof auditsSent>[number];
/** how a verifier answers an audit, given the store it can look things up in (the public API reads it) */
type Judge = (m: Audit, store: Store) => Promise<boolean>;

const SPEC = (prompt: string) =>
  ({
    runtime: "llm",
    model: TEST_MODEL,
    input: { prompt },
    params: { temperature: 0 },
    limits: { maxOutputTokens: 8 },
  }) as JobRecord["spec"];
/** a sampled job: another seed, top-k and output cap, as the explorer shows them */
const SAMPLED_SPEC = (prompt: string) =>
  ({
    ...SPEC(prompt),
    params: { temperature: 0.8, topK: 40, seed: 7 },
    limits: { maxOutputTokens: 12 },
  }) as JobRecord["spec"];
/** a greedy output whose tokens the template's part from at position 1, where the template's token had p ≈ 0.99 */
const TEMPLATE_OUT = { text: "abc", tokens: [1, 2, 3], logprobs: [-0.01, -0.01, -0.01], finishReason: "length" };
const REAL_OUT = { text: "abd", tokens: [1, 5, 6], logprobs: [-0.02, -0.3, -0.2], finishReason: "length" };

/** An honest verifier: knows the right answer of each spec (by its prompt) and compares. */
const honest =
  (answers: Map<string, string>): Judge =>
  async (m) =>
    answers.get(canonicalHash(m.spec)) === m.outputHash;
/** Passes everything unchecked. */
const lazy: Judge = async () => true;
/**
 * Checks nothing but what a verifier can look up cheaply: fails an audit whose provider is not in
 * the node list or whose job the explorer does not know (the old known-wrong canaries), passes
 * everything else.
 */
const smartLazy: Judge = async (m, store) => {
  const providers = await store.listProviders();
  if (!providers.some((p) => p.id === m.providerId)) return false;
  const job = await store.getJob(m.jobId);
  return job !== undefined && job !== null && job.outputHash === m.outputHash;
};
/**
 * Checks greedy results, and passes a sampled one unchecked once the explorer shows its job with
 * that output: known-wrong canaries of sampled jobs used to be of the old form only.
 */
const sampledLazy =
  (answers: Map<string, string>): Judge =>
  async (m, store) =>
    m.spec.runtime === "llm" && m.spec.params.temperature > 0 ? smartLazy(m, store) : honest(answers)(m, store);

async function network(policy: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  const store = await openStore(":memory:");
  const writer = new GroupWriter(store);
  const p = testNode("op-p", false);
  const h = testNode("op-h", true);
  const v = testNode("op-v", true);
  // the coordinator asks the first candidate at a draw of 0: h gets the real audits
  const order: TestNode[] = [p, h, v];
  /** the coordinator's audit draw: below the provider's audit probability draws an audit */
  let draw = 0;
  let canaries: CanaryService | undefined;
  const coordinator = new VerificationCoordinator({
    store,
    writer,
    sessions: () => order.map((n) => n.session),
    config: VerificationConfigSchema.parse({ passRecheckRate: 0, ...config }),
    log: pino({ level: "silent" }),
    random: () => draw,
    onPassed: (job, asked, operator) => canaries?.onPassed(job, asked, operator),
  });
  await coordinator.restoreRecords();
  canaries = new CanaryService({
    engine: { feed: new EventEmitter() } as unknown as Engine,
    store,
    coordinator,
    policy: CanaryPolicySchema.parse({ verifierRate: 1, wrongShare: 1, providerRate: 0, ...policy }),
    gatewayId: "g",
    log: pino({ level: "silent" }),
    random: () => 0,
  });
  const service = canaries;
  // the nodes are known to the gateway, as any connected node is: the node list shows them
  for (const n of [p, h, v])
    await store.commit([
      {
        provider: {
          id: n.session.id,
          capabilities: n.session.capabilities,
          firstSeenAt: 0,
          lastSeenAt: 0,
          online: true,
          completed: 0,
          failed: 0,
        },
      },
    ]);
  await store.commit([
    {
      ledger: {
        id: "fees",
        kind: "deposit",
        at: 0,
        transfers: [{ from: "external", to: "protocol:fees", amount: 10n ** 12n }],
      },
    },
  ]);
  const answers = new Map<string, string>();
  const judges = new Map<TestNode, Judge>([[h, honest(answers)]]);
  const seen: Array<{ verifier: TestNode; m: Audit; publicRecord: unknown[]; pass: boolean }> = [];
  const answered = new Set<string>();
  const deliver = async () => {
    for (let round = 0; round < 50; round++) {
      await new Promise((r) => setTimeout(r, 1));
      await writer.drain();
      let any = false;
      for (const [n, judge] of judges)
        for (const m of auditsSent(n)) {
          if (answered.has(m.auditId + n.session.id)) continue;
          answered.add(m.auditId + n.session.id);
          any = true;
          const publicRecord = await store.verification.auditsOfJob(m.jobId);
          const pass = await judge(m, store);
          seen.push({ verifier: n, m, publicRecord, pass });
          const verdict = verdictOf(n, m.auditId, m.jobId, pass, { outputHash: m.outputHash });
          // what a verifier of an F32 model records beside its margins (not signed: the metrics are no claim)
          verdict.report.metrics = { greedyGapToleranceNats: 0.1, logprobToleranceNats: 0.1 };
          if (!(await service.onVerdict(n.session, verdict))) await coordinator.onVerdict(n.session, verdict);
        }
      if (!any && round > 2) return;
    }
  };
  /** a job of `p` settles with a genuine signed result; `audited`: drawn for audit (else it may be replayed) */
  const settle = async (id: string, prompt: string, out: typeof REAL_OUT, audited: boolean, spec = SPEC(prompt)) => {
    const output = out as unknown as JobOutput;
    const outputHash = canonicalHash(output);
    const units = { inputTokens: 2, outputTokens: 3, standardUnits: 3 };
    const signature = signResult(p.identity, { jobId: id, attempt: 1, outputHash, units });
    const job = testJob(id, p.session.id, {
      cost: 100n,
      spec,
      output: output as JobRecord["output"],
      outputHash,
      units: units as JobRecord["units"],
      signature,
      deadlineAt: 60_000,
    });
    answers.set(canonicalHash(job.spec), outputHash);
    await store.commit([{ job }]);
    draw = audited ? 0 : 0.999;
    if (!coordinator.onSettled(job)) service.afterUnaudited(job);
    await deliver();
    return job;
  };
  /** a passed audit of a template job (the honest verifier passes it), which draws a known-wrong canary for v */
  const template = () => settle("job_t", "hi", TEMPLATE_OUT, true);
  const view = (n: TestNode) => coordinator.view(n.session.id);
  return { store, coordinator, p, h, v, judges, answers, settle, template, seen, view };
}

describe("known-wrong canary audits", () => {
  it("name a real job and a real provider, with a genuine signature, the job's public outputHash and a pending audit stored under the job; the spec is the template's", async () => {
    const n = await network({ replayWaitMs: 60_000 });
    n.judges.set(n.v, async () => false);
    await n.template();
    const job = await n.settle("job_1", "hello", REAL_OUT, false);
    const got = n.seen.filter((s) => s.verifier === n.v);
    expect(got).toHaveLength(1);
    const { m, publicRecord } = got[0] as (typeof got)[number];
    expect(m.jobId).toBe(job.id);
    expect(m.providerId).toBe(n.p.session.id);
    expect(m.attempt).toBe(job.attempt);
    expect(m.outputHash).toBe(job.outputHash);
    expect(m.units).toEqual(job.units);
    const claim = { jobId: m.jobId, attempt: m.attempt, outputHash: m.outputHash, units: m.units };
    expect(verifyResultSignature(m.providerId, claim, m.signature)).toBe(true);
    expect(canonicalHash(m.output)).toBe(m.outputHash);
    // the template's spec: the same model, params and limits as the job, another input
    expect(m.spec).toEqual(SPEC("hi"));
    const stored = await n.store.getJob(job.id);
    expect(stored?.outputHash).toBe(m.outputHash);
    expect(stored?.providerId).toBe(m.providerId);
    expect(publicRecord).toEqual([
      expect.objectContaining({ status: "pending", kind: "sampled", providerId: n.p.session.id }),
    ]);
    // once judged: a void canary audit, no failed audit of the provider's work
    expect(await n.store.verification.auditsOfJob(job.id)).toEqual([
      expect.objectContaining({ status: "void", kind: "canary" }),
    ]);
    expect((await n.store.verification.auditCounts([n.p.session.id])).get(n.p.session.id)).toEqual({
      passed: 1,
      failed: 0,
      pending: 0,
    });
    await n.store.close();
  });

  it("exclude a verifier that passes it; one that fails it is cleared; the job's provider is never slashed, struck or re-rated", async () => {
    // the same jobs with no canary made of them: what the provider's record must read
    const control = await network({ verifierRate: 0 });
    await control.template();
    await control.settle("job_1", "hello", REAL_OUT, false);
    const untouched = { ...control.view(control.p), reputation: undefined, uptime: undefined };
    await control.store.close();
    for (const pass of [true, false]) {
      const n = await network();
      n.judges.set(n.v, async () => pass);
      await n.template();
      await n.settle("job_1", "hello", REAL_OUT, false);
      // the provider's own result, under its own job id
      expect(n.seen.filter((s) => s.verifier === n.v).map((s) => [s.m.jobId, s.m.providerId])).toEqual([
        ["job_1", n.p.session.id],
      ]);
      expect(n.view(n.v)).toMatchObject(
        pass ? { excluded: true, canariesFailed: 1 } : { excluded: false, wrongCanariesFailed: 1, verifierStrikes: 0 },
      );
      expect({ ...n.view(n.p), reputation: undefined, uptime: undefined }).toEqual(untouched);
      expect(n.view(n.p)).toMatchObject({ slashed: "0", excluded: false, auditsFailed: 0, verifierStrikes: 0 });
      expect((await n.store.verification.providerSlashes(n.p.session.id, 10)).count).toBe(0);
      await n.store.close();
    }
  });

  it("catch a lazy verifier that fails whatever names an unknown provider or a job the explorer does not know, and passes the rest; the old form it escapes", async () => {
    // the old form: no result to replay comes, so it goes out signed by a throw-away identity
    const old = await network({ replayWaitMs: 0 });
    old.judges.set(old.v, smartLazy);
    await old.template();
    expect(old.seen.filter((s) => s.verifier === old.v).map((s) => s.pass)).toEqual([false]);
    expect(old.view(old.v)).toMatchObject({ excluded: false, wrongCanariesFailed: 1 });
    await old.store.close();

    const n = await network();
    n.judges.set(n.v, smartLazy);
    await n.template();
    await n.settle("job_1", "hello", REAL_OUT, false);
    expect(n.seen.filter((s) => s.verifier === n.v).map((s) => s.pass)).toEqual([true]);
    expect(n.view(n.v)).toMatchObject({ excluded: true });
    await n.store.close();
  });

  it("are made of sampled results too, sent under the job's own spec with the template's prompt: a verifier passing sampled audits unchecked is caught", async () => {
    const n = await network();
    n.judges.set(n.v, sampledLazy(n.answers));
    await n.template();
    // its claimed logprob where it parts from the template (e^-0.3) is far above the e^-2.26 the template's token leaves
    const job = await n.settle("job_1", "hello", REAL_OUT, false, SAMPLED_SPEC("hello"));
    const got = n.seen.filter((s) => s.verifier === n.v);
    expect(got.map((s) => [s.m.jobId, s.m.outputHash, s.pass])).toEqual([[job.id, job.outputHash, true]]);
    expect(got[0]?.m.spec).toEqual(SAMPLED_SPEC("hi"));
    expect(n.view(n.v)).toMatchObject({ excluded: true, canariesFailed: 1 });
    expect(n.view(n.p)).toMatchObject({ slashed: "0", excluded: false, auditsFailed: 0 });
    await n.store.close();
  });

  it("never clear an honest verifier, and go only to a verifier that did not judge the template", async () => {
    const n = await network();
    await n.template();
    n.judges.set(n.v, n.judges.get(n.h) as Judge);
    await n.settle("job_1", "hello", REAL_OUT, false);
    const got = n.seen.filter((s) => s.m.jobId === "job_1");
    // h judged the template: it would know its spec and answer again
    expect(got.map((s) => s.verifier)).toEqual([n.v]);
    expect(got.map((s) => s.pass)).toEqual([false]);
    expect(n.view(n.v)).toMatchObject({ excluded: false, verifierStrikes: 0, wrongCanariesFailed: 1 });
    await n.store.close();
  });

  it("hold the job's cost against its provider's stake while undecided, as a drawn audit does, and release it once judged", async () => {
    const n = await network({}, { minStake: "1000", verifierMinStake: "0" });
    await n.store.commit([{ ledger: stakeDepositEvent("stake:p", n.p.session.id, 1000n, 0) }]);
    await n.coordinator.stakes.refresh(n.p.session.id);
    const free = n.coordinator.maxJobCostOf(n.p.session.id, 0n);
    let whileJudged: bigint | undefined;
    n.judges.set(n.v, async () => {
      whileJudged = n.coordinator.maxJobCostOf(n.p.session.id, 0n);
      return false;
    });
    await n.template();
    await n.settle("job_1", "hello", REAL_OUT, false);
    expect(n.seen.filter((s) => s.verifier === n.v)).toHaveLength(1);
    expect(whileJudged).toBeLessThan(free as bigint);
    expect(n.coordinator.maxJobCostOf(n.p.session.id, 0n)).toBe(free);
    await n.store.close();
  });

  it("go out in the old form when more are owed than kept, the one waiting longest first: on a network that audits every result none is ever made of a real one", async () => {
    const n = await network({ maxTemplates: 1 });
    n.judges.set(n.v, async () => false);
    await n.template();
    expect(n.seen.filter((s) => s.verifier === n.v)).toEqual([]);
    // a second passed audit owes a second: the first goes out now, of the first passed job, signed by a throw-away identity
    await n.settle("job_t2", "ho", TEMPLATE_OUT, true);
    const got = n.seen.filter((s) => s.verifier === n.v).map((s) => s.m);
    expect(got).toHaveLength(1);
    expect(got[0]?.providerId).not.toBe(n.p.session.id);
    expect(await n.store.getJob(got[0]?.jobId as string)).toBeUndefined();
    expect(n.view(n.v)).toMatchObject({ wrongCanariesFailed: 1, excluded: false });
    await n.store.close();
  });

  it("are not made of a result an honest verifier could pass: one whose tokens never part from the template's", async () => {
    const n = await network({ replayWaitMs: 60_000 });
    n.judges.set(n.v, lazy);
    await n.template();
    // the template's tokens, one short: a prefix of them (another text, so another hash)
    await n.settle("job_1", "hello", { ...TEMPLATE_OUT, text: "ab", tokens: [1, 2], logprobs: [-0.01, -0.01] }, false);
    expect(n.seen.filter((s) => s.verifier === n.v)).toEqual([]);
    // a result drawn for audit is not replayed either: its audit is the real one
    await n.settle("job_2", "hello", REAL_OUT, true);
    expect(n.seen.filter((s) => s.verifier === n.v)).toEqual([]);
    await n.store.close();
  });
});
