// Verifiers on the local ledger with --min-stake: what they must stake to judge, what a canary
// that catches them burns, and the known-good canary a verifier gets after failing a real result.
// Real in-memory store and ledger, real signatures; the draws are fixed at 0.
import { EventEmitter } from "node:events";
import {
  CanaryPolicySchema,
  checkInvariants,
  EXTERNAL,
  FEES,
  type JobRecord,
  stakeAccounts,
  stakeDepositEvent,
} from "@tessera/core";
import { openStore } from "@tessera/store";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import type { Engine } from "../engine/engine.js";
import { GroupWriter } from "../engine/writer.js";
import { CanaryService } from "./canaries.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { auditsSent, type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

const MIN = 1_000n;
const output = { text: "xy", tokens: [1, 2], logprobs: [-1, -1], finishReason: "length" } as JobRecord["output"];

/**
 * A provider, verifiers `a` and `b` of other operators, and the canary service wired as start.ts
 * wires it; `restart()` starts coordinator and canary service afresh over the same store, as a
 * gateway restart does (records written first, as the verification tick writes them).
 */
async function network(opts: { minStake: bigint; stakes: [bigint, bigint]; policy?: object }) {
  const store = await openStore(":memory:");
  const writer = new GroupWriter(store);
  const provider = testNode("op-p", false);
  const a = testNode("op-a", true);
  const b = testNode("op-b", true);
  await store.commit([
    { ledger: { id: "fees", kind: "deposit", at: 0, transfers: [{ from: EXTERNAL, to: FEES, amount: 100_000n }] } },
    { ledger: stakeDepositEvent("stake:p", provider.session.id, 100_000n, 0) },
    ...[a, b].flatMap((n, i) =>
      (opts.stakes[i] as bigint) > 0n
        ? [{ ledger: stakeDepositEvent(`stake:${i}`, n.session.id, opts.stakes[i] as bigint, 0) }]
        : [],
    ),
  ]);
  const boot = async () => {
    let canaries: CanaryService | undefined;
    const coordinator = new VerificationCoordinator({
      store,
      writer,
      sessions: () => [provider, a, b].map((n) => n.session),
      config: VerificationConfigSchema.parse({
        minStake: opts.minStake.toString(),
        policy: { newRate: 1, floorRate: 1, afterFailureRate: 1 },
        passRecheckRate: 0,
      }),
      log: pino({ level: "silent" }),
      random: () => 0,
      onPassed: (job, verifiers, operator) => canaries?.onPassed(job, verifiers, operator),
      onFailed: (verifierId) => canaries?.afterFailed(verifierId),
    });
    await coordinator.restoreRecords();
    for (const n of [provider, a, b]) await coordinator.stakes.refresh(n.session.id);
    canaries = new CanaryService({
      engine: { feed: new EventEmitter(), activeJob: () => undefined } as unknown as Engine,
      store,
      coordinator,
      // known-good results are passed real audits here (auditedKnownGood): what is tested is the burn and
      // the one-send-per-verifier rule, which reproduced canary jobs (known-good.test.ts) share
      policy: CanaryPolicySchema.parse({
        verifierRate: 0,
        failRate: 1,
        meanDelayMs: 0,
        auditedKnownGood: true,
        ...opts.policy,
      }),
      gatewayId: "g",
      log: pino({ level: "silent" }),
      random: () => 0,
    });
    await canaries.restore();
    return { coordinator, canaries };
  };
  const g = await boot();
  const restart = async () => {
    await g.coordinator.tickRecords(0);
    Object.assign(g, await boot());
  };
  /** a settled job of the provider, in the store, drawn for audit */
  const settle = async (id: string) => {
    const job = testJob(id, provider.session.id, { cost: 1_000n, output });
    await store.commit([{ job }]);
    g.coordinator.onSettled(job);
    await settled();
    return job;
  };
  const settled = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 5));
    await writer.drain();
  };
  const lastAudit = (n: TestNode) => auditsSent(n).at(-1);
  /** `n` answers the last audit it was sent */
  const answer = async (n: TestNode, pass: boolean, inconclusive = false) => {
    const m = lastAudit(n);
    if (!m) throw new Error("no audit was sent");
    const v = verdictOf(n, m.auditId, m.jobId, pass, { inconclusive, outputHash: m.outputHash });
    if (!(await g.canaries.onVerdict(n.session, v))) await g.coordinator.onVerdict(n.session, v);
    await settled();
  };
  const stakeOf = async (n: TestNode) => store.balance(stakeAccounts.stake(n.session.id));
  return {
    store,
    get coordinator() {
      return g.coordinator;
    },
    get canaries() {
      return g.canaries;
    },
    provider,
    a,
    b,
    settle,
    answer,
    lastAudit,
    stakeOf,
    restart,
  };
}

describe("verifier stake on the local ledger", () => {
  it("sends audits only to verifiers staked at least --min-stake, as providers must be to run jobs", async () => {
    const t = await network({ minStake: MIN, stakes: [MIN - 1n, MIN] });
    await t.settle("job_1");
    expect(auditsSent(t.a)).toHaveLength(0);
    expect(auditsSent(t.b)).toHaveLength(1);
    await t.store.close();
  });

  it("asks no stake of a verifier when the gateway asks none of providers", async () => {
    const t = await network({ minStake: 0n, stakes: [0n, 0n] });
    await t.settle("job_1");
    expect(auditsSent(t.a).length + auditsSent(t.b).length).toBe(1);
    await t.store.close();
  });

  /** job_1 passed by a; job_2 failed by a, then by b (two fails: the provider is slashed) */
  async function bFailedJob2(t: Awaited<ReturnType<typeof network>>) {
    await t.settle("job_1");
    await t.answer(t.a, true);
    await t.settle("job_2");
    await t.answer(t.a, false);
    expect(t.lastAudit(t.b)?.jobId).toBe("job_2");
    await t.answer(t.b, false);
    expect(t.coordinator.view(t.provider.session.id)).toMatchObject({ auditsPassed: 1, auditsFailed: 1 });
  }

  it("sends a verifier that failed a real result a passed one it did not judge, and burns --min-stake of its stake when it fails that too", async () => {
    const t = await network({ minStake: MIN, stakes: [5n * MIN, 5n * MIN] });
    await bFailedJob2(t);
    // a failed job_2 too, but judged the only passed result: nothing to test it with
    expect(auditsSent(t.a).map((m) => m.jobId)).toEqual(["job_1", "job_2"]);
    const canary = t.lastAudit(t.b);
    expect(canary?.jobId).toBe("job_1");
    expect(canary?.outputHash).toBe(testJob("job_1", t.provider.session.id).outputHash);
    // its verdict is awaited from b alone, until given
    const auditId = canary?.auditId as string;
    expect([t.b, t.a].map((n) => t.canaries.awaitsVerdict(auditId, n.session.id))).toEqual([true, false]);
    await t.answer(t.b, false);
    expect(t.canaries.awaitsVerdict(auditId, t.b.session.id)).toBe(false);
    expect(await t.stakeOf(t.b)).toBe(4n * MIN);
    expect(await t.stakeOf(t.a)).toBe(5n * MIN);
    expect(t.coordinator.view(t.b.session.id)).toMatchObject({
      verifierStrikes: 1,
      canariesFailed: 1,
      slashed: "1000",
    });
    expect(checkInvariants(await t.store.balances()).problems).toEqual([]);
    await t.store.close();
  });

  it("never sends one verifier the same passed result twice, which it could tell for a canary by its job id", async () => {
    const t = await network({ minStake: MIN, stakes: [5n * MIN, 5n * MIN] });
    await bFailedJob2(t);
    await t.answer(t.b, true);
    // b fails again: job_1, the only passed result, it was already sent
    await t.settle("job_3");
    await t.answer(t.a, false);
    await t.answer(t.b, false);
    expect(auditsSent(t.b).map((m) => m.jobId)).toEqual(["job_2", "job_1", "job_3"]);
    await t.store.close();
  });

  it("still sends a known-good canary after a fail once the gateway restarted, never one a verifier judged or was sent before it", async () => {
    const t = await network({ minStake: MIN, stakes: [5n * MIN, 5n * MIN] });
    await bFailedJob2(t);
    await t.answer(t.b, true); // the known-good canary: job_1, passed by a
    await t.settle("job_3");
    await t.answer(t.a, true); // job_3 passed by a: a known-good result b has not seen
    await t.restart();
    // the known-good list was in memory only: after a restart a griefer's fails went untested
    // until new audits passed
    await t.settle("job_4");
    await t.answer(t.a, false);
    await t.answer(t.b, false);
    expect(auditsSent(t.b).map((m) => m.jobId)).toEqual(["job_2", "job_1", "job_4", "job_3"]);
    await t.answer(t.b, false);
    expect(await t.stakeOf(t.b)).toBe(4n * MIN);
    // b fails again: job_1 and job_3 it has judged, before the restart or after, and a judged both
    await t.settle("job_5");
    await t.answer(t.a, false);
    await t.answer(t.b, false);
    expect(auditsSent(t.b).map((m) => m.jobId)).toEqual(["job_2", "job_1", "job_4", "job_3", "job_5"]);
    expect(checkInvariants(await t.store.balances()).problems).toEqual([]);
    await t.store.close();
  });

  it("burns nothing for an inconclusive answer to a canary (a runtime error is no lie), though it is a strike", async () => {
    const t = await network({ minStake: MIN, stakes: [5n * MIN, 5n * MIN] });
    await bFailedJob2(t);
    await t.answer(t.b, true, true);
    expect(await t.stakeOf(t.b)).toBe(5n * MIN);
    expect(t.coordinator.view(t.b.session.id)).toMatchObject({ verifierStrikes: 1, slashed: "0" });
    await t.store.close();
  });

  it("strikes a verifier that leaves a canary unanswered, as if it had answered inconclusive, and burns nothing", async () => {
    // silence cost nothing: a griefer could leave unanswered whatever came in the minute after its
    // fail (the known-good canary comes after a mean 5 s) and fail honest results untested
    const t = await network({ minStake: MIN, stakes: [5n * MIN, 5n * MIN], policy: { unansweredMs: 20 } });
    await bFailedJob2(t);
    expect(t.lastAudit(t.b)?.jobId).toBe("job_1");
    const canaryAudit = t.lastAudit(t.b)?.auditId as string;
    await vi.waitFor(() => expect(t.coordinator.view(t.b.session.id)).toMatchObject({ verifierStrikes: 1 }));
    // judged unanswered, it takes no verdict: the node still holding it is told to drop it
    expect(t.canaries.awaitsVerdict(canaryAudit, t.b.session.id)).toBe(false);
    expect(t.coordinator.view(t.b.session.id)).toMatchObject({ canariesFailed: 1, slashed: "0", excluded: false });
    expect(await t.stakeOf(t.b)).toBe(5n * MIN);
    // a verdict after that finds nothing to judge: no second strike
    await t.answer(t.b, false);
    expect(t.coordinator.view(t.b.session.id)).toMatchObject({ verifierStrikes: 1, slashed: "0" });
    await t.store.close();
  });

  it("sends no known-good canary after a fail at --fail-canary-rate 0", async () => {
    const t = await network({ minStake: MIN, stakes: [5n * MIN, 5n * MIN], policy: { failRate: 0 } });
    await bFailedJob2(t);
    expect(auditsSent(t.b).map((m) => m.jobId)).toEqual(["job_2"]);
    await t.store.close();
  });
});
