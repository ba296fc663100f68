// The coordinator's audit loop with the spot re-check of passes, against fakes of the store, the
// group writer and provider sessions; the draws are scripted. Real signatures on verdicts.
import {
  accounts,
  checkInvariants,
  depositEvent,
  EXTERNAL,
  FEES,
  type LedgerEvent,
  stakeAccounts,
  stakeDepositEvent,
} from "@tessera/core";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { auditsSent, type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

function setup(passRecheckRate: number, opts: { verifiers?: number } = {}) {
  const provider = testNode("op-p", false);
  const colluder = testNode("op-c", true);
  const honest = Array.from({ length: opts.verifiers ?? 2 }, (_, i) => testNode(`op-${i}`, true));
  const events: LedgerEvent[] = [];
  const draws: number[] = [];
  const store = {
    verification: { putAudit: async () => {}, putVerdict: async () => {} },
    balance: async (account: string) => (account === stakeAccounts.stake(provider.session.id) ? 10_000n : 0n),
  } as unknown as Store;
  const writer = {
    write: async (op: { ledger: LedgerEvent }) => {
      events.push(op.ledger);
      return { ok: true, ledgerApplied: true };
    },
  } as unknown as GroupWriter;
  const coordinator = new VerificationCoordinator({
    store,
    writer,
    sessions: () => [provider, colluder, ...honest].map((n) => n.session),
    config: VerificationConfigSchema.parse({
      policy: { newRate: 1, floorRate: 1, afterFailureRate: 1 },
      passRecheckRate,
      verdictTimeoutMs: 1_000,
    }),
    log: pino({ level: "silent" }),
    // scripted draws (audit draw, verifier picks, re-check draw), 0 once the script runs out
    random: () => draws.shift() ?? 0,
  });
  vouch(coordinator, ...honest);
  const job = testJob("job_1", provider.session.id);
  /** the audit id a verifier was last sent, if any */
  const asked = (n: TestNode) => {
    const m = n.sent.findLast((x) => x.type === "audit");
    return m?.type === "audit" ? m.auditId : undefined;
  };
  const answer = (n: TestNode, pass: boolean) =>
    coordinator.onVerdict(n.session, verdictOf(n, asked(n) as string, job.id, pass));
  return { coordinator, provider, colluder, honest, events, draws, job, asked, answer };
}

/** Verifiers that have judged a canary of each kind rightly: a majority of them strikes its dissenters (core's majorityVouched). */
function vouch(coordinator: VerificationCoordinator, ...nodes: TestNode[]): void {
  for (const n of nodes) {
    const r = coordinator.record(n.session.id);
    r.goodCanariesPassed = 1;
    r.wrongCanariesFailed = 1;
  }
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe("verification coordinator: spot re-check of passes", () => {
  afterEach(() => vi.useRealTimers());

  it("without re-checks, a colluder drawn first clears its partner's cheated result", async () => {
    const t = setup(0);
    // audit draw, then the pick among [colluder, h0, h1]: 0 → the colluder
    t.draws.push(0, 0);
    t.coordinator.onSettled(t.job);
    await flush();
    expect(t.asked(t.colluder)).toBeDefined();
    await t.answer(t.colluder, true);
    expect(t.coordinator.pendingAudits()).toBe(0);
    expect(t.coordinator.view(t.provider.session.id)).toMatchObject({ auditsPassed: 1, slashed: "0", excluded: false });
    expect(t.events.some((e) => e.kind === "slash")).toBe(false);
    for (const h of t.honest) expect(t.asked(h)).toBeUndefined();
  });

  it("re-checks the pass: two honest verifiers contradict it, the provider is slashed and the colluder struck", async () => {
    const t = setup(1);
    t.draws.push(0, 0, /* re-check draw */ 0, /* pick h0 of [h0, h1] */ 0);
    t.coordinator.onSettled(t.job);
    await flush();
    await t.answer(t.colluder, true);
    // the second verifier gets an ordinary audit of the same result
    const recheck = t.asked(t.honest[0] as TestNode);
    expect(recheck).toBe(t.asked(t.colluder));
    expect(t.coordinator.pendingAudits()).toBe(1);
    await t.answer(t.honest[0] as TestNode, false);
    // a split: the third verifier decides
    expect(t.asked(t.honest[1] as TestNode)).toBe(recheck);
    await t.answer(t.honest[1] as TestNode, false);
    expect(t.coordinator.pendingAudits()).toBe(0);
    expect(t.coordinator.view(t.provider.session.id)).toMatchObject({ auditsFailed: 1, excluded: true });
    expect(t.coordinator.view(t.colluder.session.id)).toMatchObject({ verifierStrikes: 1, excluded: false });
    for (const h of t.honest) expect(t.coordinator.view(h.session.id).verifierStrikes).toBe(0);
    const slash = t.events.find((e) => e.kind === "slash");
    // the consumer gets the job's cost back; the reporters are the two who failed it
    expect(slash?.transfers).toContainEqual({
      from: stakeAccounts.stake(t.provider.session.id),
      to: stakeAccounts.available("c1"),
      amount: 100n,
    });
    expect(slash?.transfers.some((x) => x.to === stakeAccounts.earnings(t.colluder.session.id))).toBe(false);
  });

  it("a second contradicted pass excludes the colluder", async () => {
    const t = setup(1);
    for (const id of ["job_1", "job_2"]) {
      t.draws.push(0, 0, 0, 0);
      t.coordinator.onSettled({ ...t.job, id });
      await flush();
      t.job.id = id;
      await t.answer(t.colluder, true);
      await t.answer(t.honest[0] as TestNode, false);
      await t.answer(t.honest[1] as TestNode, false);
    }
    expect(t.coordinator.view(t.colluder.session.id)).toMatchObject({ verifierStrikes: 2, excluded: true });
    // an excluded verifier is not asked again
    expect(t.coordinator.verifierCandidates(t.job, []).map((s) => s.id)).not.toContain(t.colluder.session.id);
  });

  it("strikes a pass two verifiers contradicted only once both of them have passed a known-good canary", async () => {
    const t = setup(1);
    for (const h of t.honest) t.coordinator.record(h.session.id).goodCanariesPassed = 0;
    t.draws.push(0, 0, 0, 0);
    t.coordinator.onSettled(t.job);
    await flush();
    await t.answer(t.colluder, true);
    await t.answer(t.honest[0] as TestNode, false);
    await t.answer(t.honest[1] as TestNode, false);
    // the result is slashed all the same; only the strike waits for a majority that has shown it fails no honest work
    expect(t.coordinator.view(t.provider.session.id)).toMatchObject({ auditsFailed: 1, excluded: true });
    expect(t.coordinator.view(t.colluder.session.id).verifierStrikes).toBe(0);
    // one of the two passes a known-good canary: not yet; the other does too: the colluder is struck now
    const [h0, h1] = t.honest as [TestNode, TestNode];
    await t.coordinator.judgeVerifier(h0.session.id, "correct", false);
    expect(t.coordinator.view(t.colluder.session.id).verifierStrikes).toBe(0);
    // a known-wrong canary failed vouches for failing wrong work, not for failing honest work
    await t.coordinator.judgeVerifier(h1.session.id, "correct", true);
    expect(t.coordinator.view(t.colluder.session.id).verifierStrikes).toBe(0);
    await t.coordinator.judgeVerifier(h1.session.id, "correct", false);
    expect(t.coordinator.view(t.colluder.session.id).verifierStrikes).toBe(1);
    // and once only
    await t.coordinator.judgeVerifier(h0.session.id, "correct", false);
    expect(t.coordinator.view(t.colluder.session.id).verifierStrikes).toBe(1);
  });

  it("a re-check that agrees clears the result with two passes and strikes nobody", async () => {
    const t = setup(1);
    t.draws.push(0, 0, 0, 0);
    t.coordinator.onSettled(t.job);
    await flush();
    await t.answer(t.colluder, true);
    expect(t.asked(t.honest[0] as TestNode)).toBeDefined();
    await t.answer(t.honest[0] as TestNode, true);
    expect(t.coordinator.pendingAudits()).toBe(0);
    expect(t.asked(t.honest[1] as TestNode)).toBeUndefined();
    expect(t.coordinator.view(t.provider.session.id)).toMatchObject({ auditsPassed: 1, excluded: false });
    expect(t.coordinator.view(t.colluder.session.id).verifierStrikes).toBe(0);
  });

  it("does not re-check when the draw is above the rate, and lets the pass stand when nobody else can check", async () => {
    const t = setup(0.25);
    t.draws.push(0, 0, /* re-check draw */ 0.5);
    t.coordinator.onSettled(t.job);
    await flush();
    await t.answer(t.colluder, true);
    expect(t.coordinator.pendingAudits()).toBe(0);
    for (const h of t.honest) expect(t.asked(h)).toBeUndefined();

    const lone = setup(1, { verifiers: 0 });
    lone.draws.push(0, 0, 0);
    lone.coordinator.onSettled(lone.job);
    await flush();
    await lone.answer(lone.colluder, true);
    expect(lone.coordinator.pendingAudits()).toBe(0);
    expect(lone.coordinator.view(lone.provider.session.id).auditsPassed).toBe(1);
  });

  it("lets the pass stand when the re-checking verifier never answers and no other is left", async () => {
    vi.useFakeTimers();
    const t = setup(1, { verifiers: 1 });
    t.draws.push(0, 0, 0, 0);
    t.coordinator.onSettled(t.job);
    await flush();
    await t.answer(t.colluder, true);
    expect(t.asked(t.honest[0] as TestNode)).toBeDefined();
    expect(t.coordinator.pendingAudits()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_500);
    await flush();
    expect(t.coordinator.pendingAudits()).toBe(0);
    expect(t.coordinator.view(t.provider.session.id).auditsPassed).toBe(1);
  });
});

describe("verification coordinator: slashes on a real store", () => {
  it("slashes one node for two audits decided at once from what the first left, refunding both consumers", async () => {
    const store = await openStore(":memory:");
    const writer = new GroupWriter(store);
    const provider = testNode("op-p", false);
    const verifiers = [testNode("op-1", true), testNode("op-2", true)];
    const P = provider.session.id;
    // stake 6000; each job cost 100 at slashMultiple 40 wants 4000: the second slash gets the 2000 left
    await store.commit([
      { ledger: depositEvent("deposit:a", "ca", 1000n, 0) },
      { ledger: depositEvent("deposit:b", "cb", 1000n, 0) },
      { ledger: stakeDepositEvent("stake:p", P, 6000n, 0) },
    ]);
    const coordinator = new VerificationCoordinator({
      store,
      writer,
      sessions: () => [provider, ...verifiers].map((n) => n.session),
      config: VerificationConfigSchema.parse({
        policy: { newRate: 1, floorRate: 1, afterFailureRate: 1, slashMultiple: 40 },
        passRecheckRate: 0,
      }),
      log: pino({ level: "silent" }),
      random: () => 0,
    });
    await coordinator.restoreRecords();
    const jobs = [
      testJob("job_a", P, { consumerId: "ca", cost: 100n }),
      testJob("job_b", P, { consumerId: "cb", cost: 100n }),
    ];
    for (const job of jobs) coordinator.onSettled(job);
    const settle = async () => {
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    };
    await settle();
    const failAll = (n: TestNode) =>
      Promise.all(
        n.sent.flatMap((m) =>
          m.type === "audit" ? [coordinator.onVerdict(n.session, verdictOf(n, m.auditId, m.jobId, false))] : [],
        ),
      );
    await failAll(verifiers[0] as TestNode);
    await settle();
    // both second verdicts arrive together
    await failAll(verifiers[1] as TestNode);
    await writer.drain();

    expect(await store.balance(stakeAccounts.stake(P))).toBe(0n);
    expect(await store.balance(accounts.available("ca"))).toBe(1100n);
    expect(await store.balance(accounts.available("cb"))).toBe(1100n);
    expect(coordinator.view(P).slashed).toBe("6000");
    expect(checkInvariants(await store.balances()).ok).toBe(true);
    await store.close();
  });
});

/** A coordinator over a real in-memory store and the given (changeable) sessions, records loaded. */
async function onStore(nodes: TestNode[], opts: { random?: () => number; passRecheckRate?: number } = {}) {
  const store = await openStore(":memory:");
  const writer = new GroupWriter(store);
  const passed: string[] = [];
  const coordinator = new VerificationCoordinator({
    store,
    writer,
    sessions: () => nodes.filter((n) => n.session.online).map((n) => n.session),
    config: VerificationConfigSchema.parse({
      policy: { newRate: 1, floorRate: 1, afterFailureRate: 1 },
      passRecheckRate: opts.passRecheckRate ?? 0,
    }),
    log: pino({ level: "silent" }),
    random: opts.random ?? (() => 0),
    onPassed: (job) => void passed.push(job.id),
  });
  await coordinator.restoreRecords();
  /** what the engine writes when a node connects */
  const connected = (n: TestNode) =>
    store.commit([
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
  const settle = async () => {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    await writer.drain();
  };
  return { store, writer, coordinator, passed, connected, settle };
}

describe("verification coordinator: who audits whom, on a real store", () => {
  it("does not send a disconnected provider's result to a verifier of its own operator", async () => {
    const provider = testNode("op-x", false);
    const sameOperator = testNode("op-x", true);
    const other = testNode("op-y", true);
    const t = await onStore([provider, sameOperator, other]);
    await t.connected(provider);
    const job = testJob("job_1", provider.session.id);
    await t.store.commit([{ job }]);
    // the provider left after its result settled (the engine deletes its session)
    provider.session.online = false;
    t.coordinator.onSettled(job);
    await t.settle();
    expect(auditsSent(sameOperator)).toHaveLength(0);
    expect(auditsSent(other).map((m) => m.jobId)).toEqual(["job_1"]);
    await t.store.close();
  });

  it("takes up a parked audit after the provider left without asking its operator's verifier", async () => {
    const provider = testNode("op-x", false);
    const sameOperator = testNode("op-x", true);
    const other = testNode("op-y", true);
    sameOperator.session.online = false;
    other.session.online = false;
    const t = await onStore([provider, sameOperator, other]);
    await t.connected(provider);
    const job = testJob("job_1", provider.session.id);
    await t.store.commit([{ job }]);
    t.coordinator.onSettled(job);
    await t.settle();
    expect(t.coordinator.pendingAudits()).toBe(0);
    provider.session.online = false;
    sameOperator.session.online = true;
    await t.coordinator.resumeParked();
    expect(auditsSent(sameOperator)).toHaveLength(0);
    other.session.online = true;
    await t.coordinator.resumeParked();
    expect(auditsSent(sameOperator)).toHaveLength(0);
    expect(auditsSent(other).map((m) => m.jobId)).toEqual(["job_1"]);
    await t.store.close();
  });
});

describe("verification coordinator: inconclusive verdicts, on a real store", () => {
  it("pays no fee for an inconclusive verdict and asks the next verifier, whose verdict is paid", async () => {
    const provider = testNode("op-p", false);
    const lazy = testNode("op-l", true);
    const honest = testNode("op-h", true);
    const t = await onStore([provider, lazy, honest]);
    await t.store.commit([
      { ledger: { id: "fees", kind: "deposit", at: 0, transfers: [{ from: EXTERNAL, to: FEES, amount: 10_000n }] } },
    ]);
    const job = testJob("job_1", provider.session.id, { cost: 1000n });
    await t.store.commit([{ job }]);
    t.coordinator.onSettled(job);
    await t.settle();
    const [m] = auditsSent(lazy);
    if (!m) throw new Error("the first verifier was not asked");
    await t.coordinator.onVerdict(lazy.session, verdictOf(lazy, m.auditId, m.jobId, true, { inconclusive: true }));
    await t.settle();
    expect(await t.store.balance(accounts.earnings(lazy.session.id))).toBe(0n);
    expect(t.coordinator.view(lazy.session.id).verdictsGiven).toBe(0);
    expect(auditsSent(honest).map((x) => x.auditId)).toEqual([m.auditId]);
    await t.coordinator.onVerdict(honest.session, verdictOf(honest, m.auditId, m.jobId, true));
    await t.settle();
    // 10 % of the job's cost
    expect(await t.store.balance(accounts.earnings(honest.session.id))).toBe(100n);
    expect(t.coordinator.view(provider.session.id).auditsPassed).toBe(1);
    await t.store.close();
  });
});

describe("verification coordinator: one verdict per verifier and audit, on a real store", () => {
  async function setupThree() {
    const provider = testNode("op-p", false);
    const lazy = testNode("op-l", true);
    const h1 = testNode("op-1", true);
    const h2 = testNode("op-2", true);
    const t = await onStore([provider, lazy, h1, h2]);
    const job = testJob("job_1", provider.session.id, { cost: 0n });
    await t.store.commit([{ job }]);
    t.coordinator.onSettled(job);
    await t.settle();
    const [m] = auditsSent(lazy);
    if (!m) throw new Error("the first verifier was not asked");
    const verdict = (n: TestNode, pass: boolean, inconclusive = false) =>
      t.coordinator.onVerdict(n.session, verdictOf(n, m.auditId, m.jobId, pass, { inconclusive }));
    return { ...t, provider, lazy, h1, h2, m, verdict };
  }

  it("ignores an inconclusive verdict resent: it asks no further verifier and the audit stays in memory", async () => {
    const t = await setupThree();
    await t.verdict(t.lazy, true, true);
    expect(auditsSent(t.h1)).toHaveLength(1);
    // resent twice: were each taken, h2 would be asked and then, nobody left, the audit parked
    await t.verdict(t.lazy, true, true);
    await t.verdict(t.lazy, true, true);
    expect(auditsSent(t.h2)).toHaveLength(0);
    expect(t.coordinator.pendingAudits()).toBe(1);
    // the honest verdict still counts
    await t.verdict(t.h1, true);
    await t.settle();
    expect(t.coordinator.view(t.provider.session.id).auditsPassed).toBe(1);
    expect((await t.store.verification.auditsOfJob("job_1"))[0]?.status).toBe("passed");
    await t.store.close();
  });

  it("ignores a conclusive verdict after the same verifier's inconclusive one", async () => {
    const t = await setupThree();
    await t.verdict(t.lazy, true, true);
    // a fail now would count in memory while the store keeps the inconclusive row
    await t.verdict(t.lazy, false);
    expect(auditsSent(t.h2)).toHaveLength(0);
    await t.verdict(t.h1, false);
    await t.settle();
    // one fail only: a second verifier is asked, nothing is slashed yet
    expect(auditsSent(t.h2)).toHaveLength(1);
    expect(t.coordinator.view(t.provider.session.id)).toMatchObject({ auditsFailed: 0, excluded: false });
    const [row] = await t.store.verification.auditsOfJob("job_1");
    expect(row?.status).toBe("pending");
    // both written in the same millisecond, they may come back in either order
    expect(new Map(row?.verdicts.map((v) => [v.verifierId, v.pass]))).toEqual(
      new Map([
        [t.lazy.session.id, true],
        [t.h1.session.id, false],
      ]),
    );
    expect(row?.verdicts).toHaveLength(2);
    await t.store.close();
  });
});

describe("verification coordinator: an audit is decided once, on a real store", () => {
  it("is not taken up from the store again while it is being finished", async () => {
    const provider = testNode("op-p", false);
    const v = [1, 2, 3, 4].map((i) => testNode(`op-${i}`, true)) as [TestNode, TestNode, TestNode, TestNode];
    const t = await onStore([provider, ...v]);
    const job = testJob("job_1", provider.session.id, { cost: 0n });
    await t.store.commit([{ job }]);
    t.coordinator.onSettled(job);
    await t.settle();
    const answer = (n: TestNode, pass: boolean) => {
      const m = auditsSent(n).at(-1);
      if (!m) throw new Error("not asked");
      return t.coordinator.onVerdict(n.session, verdictOf(n, m.auditId, m.jobId, pass));
    };
    // a split: v1 fails, v2 passes, v3 decides with a pass and v1 is struck once
    vouch(t.coordinator, v[1], v[2]);
    await answer(v[0], false);
    await answer(v[1], true);
    let done = false;
    const last = answer(v[2], true).then(() => {
      done = true;
    });
    // the verification tick takes up parked audits meanwhile
    while (!done) {
      await t.coordinator.resumeParked();
      await new Promise((r) => setImmediate(r));
    }
    await last;
    await t.settle();
    expect(t.coordinator.view(provider.session.id).auditsPassed).toBe(1);
    expect(t.passed).toEqual(["job_1"]);
    expect(t.coordinator.view(v[0].session.id)).toMatchObject({ verifierStrikes: 1, excluded: false });
    expect(auditsSent(v[3])).toHaveLength(0);
    await t.store.close();
  });
});

describe("verification coordinator: audits a previous run left decided, on a real store", () => {
  /** What a run stopped after the second fail but before the slash left: the row and both verdicts. */
  async function leftDecided(online: { v1: boolean; v2: boolean }) {
    const provider = testNode("op-p", false);
    const v1 = testNode("op-1", true);
    const v2 = testNode("op-2", true);
    v1.session.online = online.v1;
    v2.session.online = online.v2;
    const t = await onStore([provider, v1, v2]);
    const P = provider.session.id;
    await t.store.commit([
      { job: testJob("job_1", P, { cost: 100n }) },
      { ledger: stakeDepositEvent("s", P, 10_000n, 0) },
    ]);
    await t.store.verification.putAudit({
      id: "aud_1",
      jobId: "job_1",
      providerId: P,
      status: "pending",
      kind: "sampled",
      createdAt: 1,
      decidedAt: null,
    });
    for (const v of [v1, v2]) {
      const m = verdictOf(v, "aud_1", "job_1", false);
      await t.store.verification.putVerdict({
        auditId: "aud_1",
        verifierId: v.session.id,
        jobId: "job_1",
        pass: false,
        report: m.report,
        signature: m.signature,
        elapsedMs: 1,
        at: 2,
      });
    }
    return { ...t, P, v1, v2 };
  }

  it("slashes at once when the verifiers that judged it are back and nobody else could be asked", async () => {
    const t = await leftDecided({ v1: true, v2: true });
    await t.coordinator.resumeParked();
    await t.settle();
    expect((await t.store.verification.auditsOfJob("job_1"))[0]?.status).toBe("slashed");
    expect(await t.store.balance(stakeAccounts.stake(t.P))).toBe(6_000n);
    expect(t.coordinator.isExcluded(t.P)).toBe(true);
    expect(auditsSent(t.v1)).toHaveLength(0);
    await t.store.close();
  });

  it("slashes at once with no verifier online", async () => {
    const t = await leftDecided({ v1: false, v2: false });
    await t.coordinator.resumeParked();
    await t.settle();
    expect((await t.store.verification.auditsOfJob("job_1"))[0]?.status).toBe("slashed");
    expect(t.coordinator.isExcluded(t.P)).toBe(true);
    await t.store.close();
  });
});

describe("verification coordinator: an operator label claimed to dodge audits, on a real store", () => {
  it("does not schedule a provider whose audits only verifiers of its claimed operator could take, until it can be audited", async () => {
    const provider = testNode("op-v", false); // claims the only verifier's operator
    const verifier = testNode("op-v", true);
    const t = await onStore([provider, verifier]);
    await t.connected(provider);
    const job = testJob("job_1", provider.session.id);
    await t.store.commit([{ job }]);
    expect(t.coordinator.eligible(provider.session)).toBe(true);
    t.coordinator.onSettled(job);
    await t.settle();
    // nobody can take the audit, and the provider is not paid for more work meanwhile
    expect(auditsSent(verifier)).toHaveLength(0);
    expect(t.coordinator.eligible(provider.session)).toBe(false);
    // a pass through the parked audits changes nothing while it claims that label
    await t.coordinator.resumeParked();
    await t.settle();
    expect(auditsSent(verifier)).toHaveLength(0);
    expect(t.coordinator.eligible(provider.session)).toBe(false);
    // it comes back under its own label: the audit goes out and decides whether it works again
    provider.session.capabilities = { ...provider.session.capabilities, operator: "op-p" };
    await t.coordinator.resumeParked();
    await t.settle();
    expect(auditsSent(verifier).map((m) => m.jobId)).toEqual(["job_1"]);
    expect(t.coordinator.eligible(provider.session)).toBe(true);
    await t.store.close();
  });

  it("keeps scheduling a provider whose audits wait because no verifier serving them is online", async () => {
    const provider = testNode("op-p", false);
    const verifier = testNode("op-v", true);
    verifier.session.online = false;
    const t = await onStore([provider, verifier]);
    await t.connected(provider);
    const job = testJob("job_1", provider.session.id);
    await t.store.commit([{ job }]);
    t.coordinator.onSettled(job);
    await t.settle();
    expect(t.coordinator.pendingAudits()).toBe(0);
    expect(t.coordinator.eligible(provider.session)).toBe(true);
    await t.store.close();
  });

  it("keeps scheduling a verifier that also runs jobs when it is the only verifier serving them", async () => {
    const node = testNode("op-v", true);
    const t = await onStore([node]);
    await t.connected(node);
    const job = testJob("job_1", node.session.id);
    await t.store.commit([{ job }]);
    t.coordinator.onSettled(job);
    await t.settle();
    expect(t.coordinator.eligible(node.session)).toBe(true);
    await t.store.close();
  });
});

describe("verification coordinator: the largest job a provider's stake backs", () => {
  it("is its stake over the slash multiple, with no limit when no stake is asked", async () => {
    const provider = testNode("op-p", false);
    const store = await openStore(":memory:");
    await store.commit([{ ledger: stakeDepositEvent("stake:p", provider.session.id, 4000n, 0) }]);
    const make = (minStake: string) =>
      new VerificationCoordinator({
        store,
        writer: new GroupWriter(store),
        sessions: () => [provider.session],
        config: VerificationConfigSchema.parse({ minStake, policy: { slashMultiple: 40 } }),
        log: pino({ level: "silent" }),
      });
    const staked = make("1000");
    await staked.stakes.refresh(provider.session.id);
    expect(staked.maxJobCostOf(provider.session.id)).toBe(100n);
    expect(make("0").maxJobCostOf(provider.session.id)).toBeUndefined();
    await store.close();
  });

  it("leaves room for the slashes its jobs in flight and its undecided audits could take, across a restart", async () => {
    const provider = testNode("op-p", false);
    const verifier = testNode("op-v", true);
    const P = provider.session.id;
    const store = await openStore(":memory:");
    await store.commit([
      { ledger: stakeDepositEvent("stake:p", P, 4000n, 0) },
      { ledger: stakeDepositEvent("stake:v", verifier.session.id, 4000n, 0) },
      { job: testJob("job_1", P, { cost: 30n }) },
    ]);
    const make = (minStake: string) =>
      new VerificationCoordinator({
        store,
        writer: new GroupWriter(store),
        sessions: () => [provider.session, verifier.session],
        config: VerificationConfigSchema.parse({
          minStake,
          policy: { newRate: 1, floorRate: 1, afterFailureRate: 1, slashMultiple: 40 },
          passRecheckRate: 0,
        }),
        log: pino({ level: "silent" }),
        random: () => 0,
      });
    const settle = async () => {
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    };
    const first = make("1000");
    await first.restoreRecords();
    for (const n of [P, verifier.session.id]) await first.stakes.refresh(n);
    // 4000 backs 100; beside 40 of jobs leased, 60
    expect(first.maxJobCostOf(P, 0n)).toBe(100n);
    expect(first.maxJobCostOf(P, 40n)).toBe(60n);
    // a settled job of 30 whose audit is undecided: 40 × 30 of the stake may still be slashed
    first.onSettled(testJob("job_1", P, { cost: 30n }));
    await settle();
    expect(first.maxJobCostOf(P, 0n)).toBe(70n);
    expect(first.maxJobCostOf(P, 40n)).toBe(30n);
    expect(first.maxJobCostOf(P, 100n)).toBe(0n);
    // could it ever take a job of 100 (nothing in flight)? yes: the job waits, it is not refused
    expect(first.maxJobCostOf(P)).toBe(100n);
    // a restart finds the audit still pending in the store
    const second = make("1000");
    await second.restoreRecords();
    for (const n of [P, verifier.session.id]) await second.stakes.refresh(n);
    expect(second.maxJobCostOf(P, 0n)).toBe(70n);
    // decided (passed): nothing of it is at risk any more
    const audit = auditsSent(verifier).at(-1);
    await second.resumeParked();
    await settle();
    // taken up again by the second run and sent to the verifier once more
    expect(auditsSent(verifier)).toHaveLength(2);
    const asked = auditsSent(verifier).at(-1);
    expect(asked?.auditId).toBe(audit?.auditId);
    await second.onVerdict(verifier.session, verdictOf(verifier, asked?.auditId as string, "job_1", true));
    await settle();
    expect(second.maxJobCostOf(P, 0n)).toBe(100n);
    // no stake asked: no limit, and nothing held
    expect(make("0").maxJobCostOf(P, 100n)).toBeUndefined();
    await store.close();
  });
});
