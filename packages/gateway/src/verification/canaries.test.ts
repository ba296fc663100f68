// Verifier canaries on a real in-memory store: a verifier handed a known-wrong or known-good result
// is judged by its verdict, and one that answers "inconclusive" (could not check) is neither paid
// nor let off. Real identities and signatures; the draws are fixed at 0.
import { EventEmitter } from "node:events";
import { accounts, CanaryPolicySchema, depositEvent, EXTERNAL, FEES, type JobRecord } from "@tessera/core";
import { openStore } from "@tessera/store";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Engine, SubmitRequest } from "../engine/engine.js";
import { GroupWriter } from "../engine/writer.js";
import { CanaryService } from "./canaries.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { auditsSent, TEST_MODEL, type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

/** A provider whose audit `first` passed, and `verifier`, who gets the canaries; `wrongShare` 1 makes them known-wrong. */
async function setup(wrongShare: number) {
  const store = await openStore(":memory:");
  const writer = new GroupWriter(store);
  const provider = testNode("op-p", false);
  const first = testNode("op-1", true);
  const verifier = testNode("op-2", true);
  const coordinator = new VerificationCoordinator({
    store,
    writer,
    sessions: () => [provider, first, verifier].map((n) => n.session),
    config: VerificationConfigSchema.parse({}),
    log: pino({ level: "silent" }),
    random: () => 0,
  });
  await coordinator.restoreRecords();
  await store.commit([
    { ledger: { id: "fees", kind: "deposit", at: 0, transfers: [{ from: EXTERNAL, to: FEES, amount: 100_000n }] } },
  ]);
  const canaries = new CanaryService({
    // the verifier-canary path submits no job: the engine's feed is all it touches
    engine: { feed: new EventEmitter() } as unknown as Engine,
    store,
    coordinator,
    // the known-good canary is the passed job itself (auditedKnownGood), so no canary job is needed
    // replayWaitMs 0: a known-wrong canary goes out at once in the old form (no result settles here to replay)
    policy: CanaryPolicySchema.parse({ verifierRate: 1, wrongShare, auditedKnownGood: true, replayWaitMs: 0 }),
    gatewayId: "g",
    log: pino({ level: "silent" }),
    random: () => 0,
  });
  const output = { text: "xy", tokens: [1, 2], logprobs: [-1, -1], finishReason: "length" } as JobRecord["output"];
  /** a real audit of job `id` passed by `first`: a canary goes to `verifier` */
  const passed = (id: string) => {
    canaries.onPassed(testJob(id, provider.session.id, { cost: 1000n, output }), [first.session.id], "op-p");
    const m = auditsSent(verifier).at(-1);
    if (!m) throw new Error("no canary was sent");
    return m;
  };
  const answer = async (n: TestNode, m: ReturnType<typeof passed>, pass: boolean, inconclusive = false) => {
    const handled = await canaries.onVerdict(
      n.session,
      verdictOf(n, m.auditId, m.jobId, pass, { inconclusive, outputHash: m.outputHash }),
    );
    await writer.drain();
    return handled;
  };
  const earnings = () => store.balance(accounts.earnings(verifier.session.id));
  return { store, coordinator, verifier, passed, answer, earnings };
}

describe("verifier canaries", () => {
  it("pay and clear a verifier that fails a known-wrong result", async () => {
    const t = await setup(1);
    expect(await t.answer(t.verifier, t.passed("job_1"), false)).toBe(true);
    expect(await t.earnings()).toBe(100n);
    expect(t.coordinator.view(t.verifier.session.id)).toMatchObject({ canariesPassed: 1, verifierStrikes: 0 });
    await t.store.close();
  });

  it("strike a verifier that answers a known-wrong result inconclusive, unpaid, and exclude it the second time", async () => {
    const t = await setup(1);
    expect(await t.answer(t.verifier, t.passed("job_1"), true, true)).toBe(true);
    expect(await t.earnings()).toBe(0n);
    expect(t.coordinator.view(t.verifier.session.id)).toMatchObject({
      canariesFailed: 1,
      verifierStrikes: 1,
      excluded: false,
    });
    await t.answer(t.verifier, t.passed("job_2"), true, true);
    expect(await t.earnings()).toBe(0n);
    expect(t.coordinator.view(t.verifier.session.id)).toMatchObject({ verifierStrikes: 2, excluded: true });
    await t.store.close();
  });

  it("strike a verifier that answers a known-good result inconclusive", async () => {
    const t = await setup(0);
    await t.answer(t.verifier, t.passed("job_1"), true, true);
    expect(await t.earnings()).toBe(0n);
    expect(t.coordinator.view(t.verifier.session.id)).toMatchObject({ canariesFailed: 1, verifierStrikes: 1 });
    await t.store.close();
  });
});

describe("provider canaries and streaming", () => {
  /** A canary submitted from a passed greedy llm job, with `streamed` of `total` real interactive llm jobs streamed. */
  async function canarySubmitted(streamed: number, total: number) {
    const { submitted, store } = await canaryService(streamed, total);
    await store.close();
    return submitted;
  }

  /** The canary service of canarySubmitted, its canary submitted as job_canary, its store open. */
  async function canaryService(streamed: number, total: number) {
    const store = await openStore(":memory:");
    const writer = new GroupWriter(store);
    const provider = testNode("op-p", false);
    const coordinator = new VerificationCoordinator({
      store,
      writer,
      sessions: () => [provider.session],
      config: VerificationConfigSchema.parse({}),
      log: pino({ level: "silent" }),
      random: () => 0,
    });
    await coordinator.restoreRecords();
    const submitted: SubmitRequest[] = [];
    const engine = {
      feed: new EventEmitter(),
      writer,
      models: new Map([[TEST_MODEL, { info: { id: TEST_MODEL, name: "tiny", parameters: 1000, contextSize: 256 } }]]),
      onlineSessions: () => [provider.session],
      llmSubmits: new Map([["interactive", { streamed, total }]]),
      submit: async (req: SubmitRequest) => {
        submitted.push(req);
        return { id: "job_canary", createdAt: 0 };
      },
    } as unknown as Engine;
    const canaries = new CanaryService({
      engine,
      store,
      coordinator,
      policy: CanaryPolicySchema.parse({ providerRate: 1, verifierRate: 0, meanDelayMs: 0 }),
      gatewayId: "g",
      log: pino({ level: "silent" }),
      random: () => 0,
    });
    // the canary account holds enough for one: the draw submits
    await store.commit([{ ledger: depositEvent("deposit:canary", canaries.consumerId, 10n ** 15n, 0) }]);
    const spec = { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" }, limits: { maxOutputTokens: 8 } };
    canaries.onPassed(
      testJob("job_1", provider.session.id, { deadlineAt: 60_000, spec: spec as JobRecord["spec"] }),
      [],
      "op-p",
    );
    canaries.afterRealJob();
    for (let i = 0; i < 50 && submitted.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 50 && !canaries.isCanary({ id: "job_canary" } as JobRecord); i++)
      await new Promise((r) => setTimeout(r, 5));
    return { submitted, store, engine, canaries };
  }

  it("streams a canary as often as consumers stream real jobs of its class, so a streamed lease is no sign of a real job", async () => {
    const [streamedCanary] = await canarySubmitted(3, 3);
    expect(streamedCanary?.stream).toBe(true);
    const [plainCanary] = await canarySubmitted(0, 3);
    expect(plainCanary).toBeDefined();
    expect(plainCanary?.stream ?? false).toBe(false);
  });

  it("judges a canary answered 'out of fuel', a billed result, and forgets one that failed refunded", async () => {
    const { store, engine, canaries } = await canaryService(0, 1);
    const canary = { id: "job_canary" } as JobRecord;
    expect(canaries.isCanary(canary)).toBe(true);
    // a node's signed answer that the job ran out of fuel: judged against the known answer as it settles
    engine.feed.emit("job", { ...canary, status: "failed", output: { data: "", outOfFuel: true } });
    expect(canaries.isCanary(canary)).toBe(true);
    // no result at all: nothing to judge
    engine.feed.emit("job", { ...canary, status: "failed", output: null });
    expect(canaries.isCanary(canary)).toBe(false);
    await store.close();
  });
});
