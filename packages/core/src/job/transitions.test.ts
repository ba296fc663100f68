import { describe, expect, it } from "vitest";
import { accounts, FEES } from "../ledger/accounts.js";
import { eventIds } from "../ledger/postings.js";
import {
  cancel,
  claimJobFault,
  complete,
  endedOnResult,
  expireInQueue,
  failPermanently,
  isTerminal,
  JOB_AT_FAULT,
  lease,
  loseLease,
  ranOutOfFuel,
  releaseIsFree,
  renewLease,
  stoppedAtFault,
  TransitionError,
} from "./transitions.js";
import type { JobRecord } from "./types.js";

function queuedJob(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: "j1",
    consumerId: "c1",
    spec: {
      runtime: "wasm",
      module: "ab".repeat(32),
      input: { data: "" },
      limits: { timeoutMs: 1_000, maxMemoryMb: 16 },
    },
    constraints: {},
    jobClass: "batch",
    status: "queued",
    attempt: 0,
    maxAttempts: 3,
    providerId: null,
    pricePerUnit: null,
    leaseExpiresAt: null,
    triedProviders: [],
    escrow: 10_000n,
    cost: null,
    units: null,
    output: null,
    outputHash: null,
    signature: null,
    error: null,
    idempotencyKey: null,
    requestHash: "00".repeat(32),
    createdAt: 0,
    updatedAt: 0,
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    ...overrides,
  };
}

const result = (standardUnits: number, now = 500) => ({
  output: { data: "AQID" },
  outputHash: "cd".repeat(32),
  units: { inputTokens: 0, outputTokens: 0, standardUnits },
  signature: "sig",
  feeBps: 1_000,
  now,
});

describe("job transitions", () => {
  it("leases a queued job to a provider and records the attempt", () => {
    const t = lease(queuedJob(), "p1", 7, 100, 30_000);
    expect(t.job).toMatchObject({
      status: "running",
      attempt: 1,
      providerId: "p1",
      pricePerUnit: 7,
      leaseExpiresAt: 30_100,
      startedAt: 100,
    });
    expect(t.attempt).toEqual({
      jobId: "j1",
      attempt: 1,
      providerId: "p1",
      leasedAt: 100,
      endedAt: null,
      outcome: "running",
      reason: null,
    });
    expect(t.ledger).toBeUndefined();
    expect(() => lease(t.job, "p2", 7, 100, 30_000)).toThrow(TransitionError);
  });

  it("extends a running lease", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 1_000).job;
    expect(renewLease(running, 600, 1_000)).toMatchObject({ leaseExpiresAt: 1_600, updatedAt: 600 });
    expect(() => renewLease(queuedJob(), 600, 1_000)).toThrow(TransitionError);
  });

  it("completes a leased job: bills units at the agreed price and settles with the escrow", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 30_000).job;
    const t = complete(running, result(1_000));
    expect(t.job).toMatchObject({
      status: "completed",
      cost: 7_000n,
      finishedAt: 500,
      leaseExpiresAt: null,
      output: { data: "AQID" },
    });
    expect(t.ledger?.id).toBe(eventIds.settle("j1"));
    expect(t.ledger?.transfers).toEqual([
      { from: accounts.escrow("c1"), to: accounts.earnings("p1"), amount: 6_300n },
      { from: accounts.escrow("c1"), to: FEES, amount: 700n },
      { from: accounts.escrow("c1"), to: accounts.available("c1"), amount: 3_000n },
    ]);
    expect(t.attempt).toMatchObject({ attempt: 1, outcome: "completed", endedAt: 500 });
    expect(isTerminal(t.job)).toBe(true);
    expect(() => complete(t.job, result(1))).toThrow(TransitionError);
  });

  it("ends a WASM job that ran out of fuel failed, saying so, and bills its result like any other", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 30_000).job;
    const outOfFuel = { ...result(1_000), output: { data: "", outOfFuel: true as const } };
    const t = complete(running, outOfFuel);
    expect(t.job).toMatchObject({
      status: "failed",
      // 1 s of time cap and no maxFuel: 3·10¹⁰ fuel
      error: `${JOB_AT_FAULT}wasm job ran out of fuel (limit 30000000000; a job may set limits.maxFuel)`,
      cost: 7_000n,
      output: { data: "", outOfFuel: true },
      signature: "sig",
    });
    // paid out of the escrow as a completed job is: the node did the work
    expect(t.ledger).toEqual(complete(running, result(1_000)).ledger);
    expect(t.attempt).toMatchObject({ outcome: "completed" });
    expect(ranOutOfFuel(t.job.output)).toBe(true);
    expect(endedOnResult(t.job)).toBe(true);
    // a failure without a result (refunded) did not
    expect(endedOnResult(failPermanently(running, "trap", 600).job)).toBe(false);
    expect(endedOnResult(complete(running, result(1)).job)).toBe(true);
  });

  it("ends a WASM job that trapped failed with the trap, billed the fuel it burned", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 30_000).job;
    const t = complete(running, { ...result(3), output: { data: "", trap: "wasm trap: divide by zero" } });
    expect(t.job).toMatchObject({ status: "failed", error: `${JOB_AT_FAULT}wasm trap: divide by zero`, cost: 21n });
    expect(t.ledger).toEqual(complete(running, result(3)).ledger);
    expect(stoppedAtFault(t.job.output)).toBe(true);
    expect(ranOutOfFuel(t.job.output)).toBe(false);
    expect(endedOnResult(t.job)).toBe(true);
  });

  it("never bills more than the escrow", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 30_000).job;
    const t = complete(running, result(1_000_000));
    expect(t.job.cost).toBe(10_000n);
    expect(t.ledger?.transfers.some((x) => x.to === accounts.available("c1"))).toBe(false);
  });

  it("requeues a job whose lease is lost until its attempts run out, then fails it with a full refund", () => {
    let job = queuedJob({ maxAttempts: 2 });
    job = lease(job, "p1", 7, 100, 1_000).job;
    const first = loseLease(job, "expired", "no heartbeat", 1_200);
    expect(first.job).toMatchObject({
      status: "queued",
      attempt: 1,
      providerId: null,
      pricePerUnit: null,
      leaseExpiresAt: null,
      triedProviders: ["p1"],
    });
    expect(first.attempt).toMatchObject({
      attempt: 1,
      providerId: "p1",
      outcome: "expired",
      reason: "no heartbeat",
      endedAt: 1_200,
    });
    expect(first.ledger).toBeUndefined();

    job = lease(first.job, "p2", 8, 1_300, 1_000).job;
    expect(job.attempt).toBe(2);
    const last = loseLease(job, "failed", "out of memory", 1_500);
    expect(last.job).toMatchObject({ status: "failed", finishedAt: 1_500 });
    expect(last.job.error).toContain("2 attempts");
    expect(last.job.error).toContain("out of memory");
    expect(last.attempt).toMatchObject({ attempt: 2, providerId: "p2", outcome: "failed" });
    expect(last.ledger?.id).toBe(eventIds.refund("j1"));
    expect(last.ledger?.transfers).toEqual([
      { from: accounts.escrow("c1"), to: accounts.available("c1"), amount: 10_000n },
    ]);
  });

  it("does not count a released lease as an attempt", () => {
    let job = lease(queuedJob({ maxAttempts: 1 }), "p1", 7, 100, 1_000).job;
    const released = loseLease(job, "released", "draining", 200);
    expect(released.job).toMatchObject({ status: "queued", maxAttempts: 2, triedProviders: ["p1"] });
    expect(released.attempt?.outcome).toBe("released");
    // the one real attempt is still available, and it is the last
    job = lease(released.job, "p2", 7, 300, 1_000).job;
    expect(loseLease(job, "expired", "gone", 400).job.status).toBe("failed");
    // a failure the caller says does not count behaves like a release
    const spared = loseLease(lease(queuedJob({ maxAttempts: 1 }), "p1", 7, 0, 1).job, "failed", "busy", 1, {
      countsAsAttempt: false,
    });
    expect(spared.job.status).toBe("queued");
  });

  it("lists a provider once among those tried", () => {
    let job = lease(queuedJob({ maxAttempts: 5 }), "p1", 7, 0, 1).job;
    job = loseLease(job, "expired", "x", 1).job;
    job = lease(job, "p1", 7, 2, 1).job;
    job = loseLease(job, "expired", "x", 3).job;
    expect(job.triedProviders).toEqual(["p1"]);
  });

  it("cancels a queued job with a refund and no attempt record", () => {
    const t = cancel(queuedJob(), 50);
    expect(t.job).toMatchObject({ status: "cancelled", error: "cancelled by the consumer", finishedAt: 50 });
    expect(t.attempt).toBeUndefined();
    expect(t.ledger?.transfers).toEqual([
      { from: accounts.escrow("c1"), to: accounts.available("c1"), amount: 10_000n },
    ]);
  });

  it("cancels a running job and ends its attempt as cancelled", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 1_000).job;
    const t = cancel(running, 150, "user pressed stop");
    expect(t.job).toMatchObject({ status: "cancelled", error: "user pressed stop", leaseExpiresAt: null });
    expect(t.attempt).toMatchObject({ attempt: 1, providerId: "p1", outcome: "cancelled", endedAt: 150 });
    expect(t.ledger?.id).toBe(eventIds.refund("j1"));
    expect(() => cancel(t.job, 160)).toThrow(TransitionError);
  });

  it("fails a job permanently, or in the queue past its deadline, with a refund", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 1_000).job;
    const bad = failPermanently(running, "trap: unreachable", 120);
    expect(bad.job).toMatchObject({ status: "failed", error: "trap: unreachable" });
    expect(bad.attempt?.outcome).toBe("failed");
    expect(bad.ledger?.transfers[0]?.amount).toBe(10_000n);

    const expired = expireInQueue(queuedJob(), 9_000);
    expect(expired.job.status).toBe("failed");
    expect(expired.attempt).toBeUndefined();
    expect(expired.ledger?.id).toBe(eventIds.refund("j1"));
    expect(() => expireInQueue(running, 9_000)).toThrow(TransitionError);
  });

  it("fails a job as its own fault only on a confirmed claim; until then it is requeued, an attempt used", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 1_000).job;
    const doubted = claimJobFault(running, "trap: unreachable", 120, { confirmed: false });
    expect(doubted.job).toMatchObject({ status: "queued", attempt: 1, maxAttempts: 3, triedProviders: ["p1"] });
    expect(doubted.attempt).toMatchObject({ outcome: "failed", reason: `${JOB_AT_FAULT}trap: unreachable` });
    expect(doubted.ledger).toBeUndefined(); // the escrow stays put

    const again = lease(doubted.job, "p2", 7, 130, 1_000).job;
    const confirmed = claimJobFault(again, "trap: unreachable", 140, { confirmed: true });
    expect(confirmed.job).toMatchObject({ status: "failed", error: `${JOB_AT_FAULT}trap: unreachable` });
    expect(confirmed.ledger?.id).toBe(eventIds.refund("j1"));

    // claims that are never confirmed still end when the attempts do
    const last = lease(queuedJob({ attempt: 2 }), "p1", 7, 0, 1).job;
    const out = claimJobFault(last, "bad input", 5, { confirmed: false });
    expect(out.job.status).toBe("failed");
    expect(out.job.error).toBe(`failed after 3 attempts; last: ${JOB_AT_FAULT}bad input`);
  });

  it("lets a node give back a batch lease free once per job, and never an interactive one", () => {
    const batch = lease(queuedJob({ jobClass: "batch" }), "p1", 7, 0, 1).job;
    expect(releaseIsFree(batch)).toBe(true);
    const requeued = loseLease(batch, "released", "paused", 1).job;
    expect(releaseIsFree(lease(requeued, "p1", 7, 2, 1).job)).toBe(false); // the same node again
    expect(releaseIsFree(lease(requeued, "p2", 7, 2, 1).job)).toBe(true);
    expect(releaseIsFree(lease(queuedJob({ jobClass: "interactive" }), "p1", 7, 0, 1).job)).toBe(false);
  });

  it("does not count a lease the gateway took back (preemption) as the node having tried the job", () => {
    const batch = lease(queuedJob({ jobClass: "batch" }), "p1", 7, 0, 1).job;
    const preempted = loseLease(batch, "released", "preempted by interactive work", 1, { takenBack: true }).job;
    expect(preempted).toMatchObject({ status: "queued", triedProviders: [], maxAttempts: batch.maxAttempts + 1 });
    // leased back to the same node later, which is then paused by its owner: still a free release
    expect(releaseIsFree(lease(preempted, "p1", 7, 2, 1).job)).toBe(true);
  });

  it("bills a stopped stream what its lease streamed, settling it like a result, and refunds the rest", () => {
    const running = lease(queuedJob(), "p1", 7, 100, 1_000).job;
    const units = { inputTokens: 0, outputTokens: 3, standardUnits: 300 };
    const t = cancel(running, 150, "stopped", { units, feeBps: 1_000 });
    expect(t.job).toMatchObject({ status: "cancelled", units, cost: 2_100n, error: "stopped", finishedAt: 150 });
    expect(t.attempt).toMatchObject({ outcome: "cancelled" });
    expect(t.ledger?.id).toBe(eventIds.settle("j1"));
    expect(t.ledger?.transfers).toEqual(
      expect.arrayContaining([{ from: accounts.escrow("c1"), to: accounts.available("c1"), amount: 7_900n }]),
    );
    // never more than the escrow; nothing streamed, or a queued job, is a plain refund
    expect(cancel(running, 150, "x", { units: { ...units, standardUnits: 10 ** 9 }, feeBps: 0 }).job.cost).toBe(
      10_000n,
    );
    expect(cancel(running, 150, "x", { units: { ...units, standardUnits: 0 }, feeBps: 0 }).ledger?.id).toBe(
      eventIds.refund("j1"),
    );
    expect(cancel(queuedJob(), 150, "x", { units, feeBps: 0 }).ledger?.id).toBe(eventIds.refund("j1"));
  });
});
