// Contract, part 1: commit semantics (group commit, ledger, idempotency) and durability.
import { accounts, checkInvariants, depositEvent, EXTERNAL, FEES, settleEvent, withdrawEvent } from "@tessera/core";
import { IdempotencyConflict, InsufficientBalance, MAX_SUPPLY } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import type { Harness } from "./contract.js";
import { makeJob, submitOp } from "./fixtures.js";

const avail = accounts.available("alice");
const escrow = accounts.escrow("alice");

export function commitContract(h: Harness): void {
  describe("commit", () => {
    it("answers an empty batch with no results", async () => {
      expect(await h.store.commit([])).toEqual([]);
    });

    it("applies a ledger event once, however often it is committed", async () => {
      await h.fund(500n);
      const again = await h.store.commit([{ ledger: depositEvent("dep-alice", "alice", 500n, 1) }]);
      expect(again).toEqual([{ ok: true, ledgerApplied: false }]);
      // and twice inside one batch
      const twice = await h.store.commit([
        { ledger: depositEvent("dep-2", "alice", 7n, 2) },
        { ledger: depositEvent("dep-2", "alice", 7n, 2) },
      ]);
      expect(twice).toEqual([
        { ok: true, ledgerApplied: true },
        { ok: true, ledgerApplied: false },
      ]);
      expect(await h.store.balance(avail)).toBe(507n);
      expect(await h.store.balance(EXTERNAL)).toBe(-507n);
      expect(await h.store.postings({ account: avail, limit: 10 })).toHaveLength(2);
    });

    it("still writes the rest of an op whose event was already applied", async () => {
      await h.fund(5_000n);
      const job = makeJob("j1");
      await h.store.commit([submitOp(job)]);
      const done = { ...job, status: "completed" as const, cost: 300n, finishedAt: 5, updatedAt: 5 };
      const settle = settleEvent({
        jobId: "j1",
        consumerId: "alice",
        providerId: "p1",
        escrowed: job.escrow,
        cost: 300n,
        feeBps: 1000,
        at: 5,
      });
      expect(await h.store.commit([{ job: done, ledger: settle }])).toEqual([{ ok: true, ledgerApplied: true }]);
      const later = { ...done, error: "noted on replay", updatedAt: 9 };
      expect(await h.store.commit([{ job: later, ledger: settle }])).toEqual([{ ok: true, ledgerApplied: false }]);
      expect((await h.store.getJob("j1"))?.error).toBe("noted on replay");
      expect(await h.store.balance(accounts.earnings("p1"))).toBe(270n);
      expect(await h.store.balance(FEES)).toBe(30n);
      expect(await h.store.balance(avail)).toBe(5_000n - 300n);
      expect(await h.store.balance(escrow)).toBe(0n);
    });

    it("rejects an overdraft with InsufficientBalance and writes nothing of the op", async () => {
      await h.fund(100n);
      const job = makeJob("big", { escrow: 150n });
      const [r] = await h.store.commit([submitOp(job, "key-1")]);
      expect(r?.ok).toBe(false);
      if (r?.ok !== false) throw new Error("unreachable");
      expect(r.error).toBeInstanceOf(InsufficientBalance);
      expect(r.error.code).toBe("insufficient_balance");
      expect(r.error.message).toBe("This job may cost up to 150 nc but the account has 100 nc available.");
      // an overdraft that is not a job's escrow says what it was and whose account it would overdraw
      const [w] = await h.store.commit([{ ledger: withdrawEvent("w-big", "alice", 101n, 2) }]);
      expect(w?.ok === false && w.error.message).toBe(`This withdraw needs 101 nc but ${avail} has 100 nc available.`);
      expect(await h.store.getJob("big")).toBeUndefined();
      expect(await h.store.jobByIdempotencyKey("alice", "key-1")).toBeUndefined();
      expect(await h.store.balance(avail)).toBe(100n);
      expect(await h.store.postings({ jobId: "big", limit: 10 })).toEqual([]);
      // the event was not recorded as applied: once funded, the same op goes through
      await h.fund(50n, "alice", "dep-more");
      expect(await h.store.commit([submitOp(job, "key-1")])).toEqual([{ ok: true, ledgerApplied: true }]);
      expect(await h.store.balance(escrow)).toBe(150n);
    });

    it("writes a share book only with the ledger event that moved its money, never on a replay or a refusal", async () => {
      const book = (v: string) => ({ providerId: "p1", book: v, at: 1 });
      await h.fund(100n);
      const claim = (id: string, amount: bigint) => ({
        id,
        kind: "share_claim" as const,
        at: 1,
        transfers: [{ from: avail, to: accounts.available("bob"), amount }],
      });
      const results = await h.store.commit([
        { ledger: claim("c1", 60n), sharesBook: book("after c1") },
        { ledger: claim("c2", 60n), sharesBook: book("after c2: overdraws") },
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, false]);
      expect(await h.store.settlement.getSharesBook("p1")).toBe("after c1");
      await h.store.commit([{ ledger: claim("c1", 60n), sharesBook: book("c1 replayed") }]);
      expect(await h.store.settlement.getSharesBook("p1")).toBe("after c1");
      expect(await h.store.balance(avail)).toBe(40n);
    });

    it("lets only the external account go negative", async () => {
      await h.fund(10n);
      const [w] = await h.store.commit([{ ledger: withdrawEvent("w1", "alice", 11n, 2) }]);
      expect(w?.ok).toBe(false);
      expect(await h.store.commit([{ ledger: withdrawEvent("w2", "alice", 10n, 2) }])).toEqual([
        { ok: true, ledgerApplied: true },
      ]);
      expect(await h.store.balance(avail)).toBe(0n);
      expect(await h.store.balance(EXTERNAL)).toBe(0n);
      expect(checkInvariants(await h.store.balances()).ok).toBe(true);
    });

    it("fails an op whose idempotency key another job holds, and writes nothing of it", async () => {
      await h.fund(1_000n);
      const first = makeJob("first", { escrow: 10n, idempotencyKey: "k" });
      const second = makeJob("second", { escrow: 10n, idempotencyKey: "k" });
      expect(await h.store.commit([submitOp(first, "k")])).toEqual([{ ok: true, ledgerApplied: true }]);
      const [r] = await h.store.commit([submitOp(second, "k")]);
      expect(r?.ok).toBe(false);
      if (r?.ok !== false) throw new Error("unreachable");
      expect(r.error).toBeInstanceOf(IdempotencyConflict);
      expect(r.error.code).toBe("idempotency_conflict");
      expect(await h.store.getJob("second")).toBeUndefined();
      expect(await h.store.balance(escrow)).toBe(10n);
      expect((await h.store.jobByIdempotencyKey("alice", "k"))?.id).toBe("first");
      // keys are per consumer
      await h.fund(100n, "bob");
      const bobs = makeJob("bobs", { consumerId: "bob", escrow: 10n });
      expect(await h.store.commit([submitOp(bobs, "k")])).toEqual([{ ok: true, ledgerApplied: true }]);
      expect((await h.store.jobByIdempotencyKey("bob", "k"))?.id).toBe("bobs");
      // a replay of the claiming op itself is not a conflict
      expect(await h.store.commit([submitOp(first, "k")])).toEqual([{ ok: true, ledgerApplied: false }]);
    });

    it("keeps a failing op from affecting the other ops of its batch", async () => {
      await h.fund(100n);
      await h.store.commit([submitOp(makeJob("holder", { escrow: 1n }), "taken")]);
      const results = await h.store.commit([
        submitOp(makeJob("a", { escrow: 30n }), "ka"),
        submitOp(makeJob("too-big", { escrow: 1_000n }), "kb"),
        submitOp(makeJob("dup", { escrow: 5n }), "taken"),
        submitOp(makeJob("b", { escrow: 40n }), "kb"),
        // the batch sees its own earlier ops: 100 - 1 - 30 - 40 leaves 29
        submitOp(makeJob("c", { escrow: 30n })),
        { ledger: depositEvent("late", "alice", 1n, 3) },
        submitOp(makeJob("d", { escrow: 30n })),
        submitOp(makeJob("e", { escrow: 1n }), "ka"),
      ]);
      expect(results.map((r) => (r.ok ? "ok" : r.error.code))).toEqual([
        "ok",
        "insufficient_balance",
        "idempotency_conflict",
        "ok",
        "insufficient_balance",
        "ok",
        "ok",
        "idempotency_conflict",
      ]);
      for (const id of ["a", "b", "d"]) expect((await h.store.getJob(id))?.status).toBe("queued");
      for (const id of ["too-big", "dup", "c", "e"]) expect(await h.store.getJob(id)).toBeUndefined();
      expect((await h.store.jobByIdempotencyKey("alice", "kb"))?.id).toBe("b");
      expect(await h.store.balance(escrow)).toBe(1n + 30n + 40n + 30n);
      expect(await h.store.balance(avail)).toBe(0n);
      expect(checkInvariants(await h.store.balances()).ok).toBe(true);
    });

    it("merges two writes of one attempt in a batch like the upsert does", async () => {
      const job = makeJob("j");
      await h.store.commit([
        {
          job,
          attempt: {
            jobId: "j",
            attempt: 1,
            providerId: "p1",
            leasedAt: 10,
            endedAt: null,
            outcome: "running",
            reason: null,
          },
        },
        {
          attempt: {
            jobId: "j",
            attempt: 1,
            providerId: "px",
            leasedAt: 99,
            endedAt: 20,
            outcome: "expired",
            reason: "lost",
          },
        },
      ]);
      expect(await h.store.attempts("j")).toEqual([
        { jobId: "j", attempt: 1, providerId: "p1", leasedAt: 10, endedAt: 20, outcome: "expired", reason: "lost" },
      ]);
    });
    it("rewrites a job's lifecycle on a second write and keeps what it was submitted with", async () => {
      const job = makeJob("j");
      await h.store.commit([{ job }]);
      const lifecycle = {
        status: "running" as const,
        attempt: 1,
        providerId: "p1",
        pricePerUnit: 12,
        leaseExpiresAt: 99,
        triedProviders: ["p1"],
        startedAt: 10,
        updatedAt: 10,
      };
      // a transition never changes the rest; a write that did is not taken up
      const rewritten = {
        ...job,
        ...lifecycle,
        consumerId: "mallory",
        escrow: 1n,
        spec: { ...job.spec, limits: { maxOutputTokens: 1 } },
        createdAt: 1,
      } as typeof job;
      await h.store.commit([{ job: rewritten }]);
      expect(await h.store.getJob("j")).toEqual({ ...job, ...lifecycle });
    });
  });

  it("round-trips amounts above 2^53 exactly", async () => {
    const huge = 2n ** 59n + 12_345n; // under the supply cap of 10^18
    await h.fund(huge);
    const job = makeJob("huge", { escrow: 2n ** 53n + 3n });
    await h.store.commit([submitOp(job)]);
    const cost = 2n ** 53n + 1n;
    const done = { ...job, status: "completed" as const, cost };
    const settle = settleEvent({
      jobId: "huge",
      consumerId: "alice",
      providerId: "p",
      escrowed: job.escrow,
      cost,
      feeBps: 0,
      at: 2,
    });
    await h.store.commit([{ job: done, ledger: settle }]);
    const got = await h.store.getJob("huge");
    expect(got?.escrow).toBe(2n ** 53n + 3n);
    expect(got?.cost).toBe(cost);
    expect(await h.store.balance(avail)).toBe(huge - cost);
    expect(await h.store.balance(accounts.earnings("p"))).toBe(cost);
    expect(await h.store.balance(EXTERNAL)).toBe(-huge);
    expect((await h.store.balances()).get(avail)).toBe(huge - cost);
    expect(await h.store.spent("alice")).toBe(cost);
    const amounts = (await h.store.postings({ jobId: "huge", limit: 10 })).map((p) => p.amount);
    expect(amounts.sort()).toEqual([2n, cost, 2n ** 53n + 3n].sort());
  });

  it("refuses money beyond the supply cap and writes nothing of it", async () => {
    await h.fund(MAX_SUPPLY - 5n);
    const results = await h.store.commit([
      { ledger: depositEvent("over", "bob", 6n, 1) },
      { ledger: depositEvent("fits", "bob", 5n, 1) },
    ]);
    expect(results).toEqual([
      { ok: false, error: expect.objectContaining({ code: "invalid_request", param: "amount" }) },
      { ok: true, ledgerApplied: true },
    ]);
    expect(await h.store.balance(EXTERNAL)).toBe(-MAX_SUPPLY);
    expect(await h.store.postings({ eventId: "over", limit: 5 })).toEqual([]);
    expect((await h.store.postings({ eventId: "fits", limit: 5 })).map((p) => p.amount)).toEqual([5n]);
  });

  it("keeps everything across a close and reopen, and migrates idempotently", async () => {
    await h.fund(77n);
    await h.store.commit([submitOp(makeJob("persist", { escrow: 7n }), "pk")]);
    await h.store.close();
    h.store = await openStore(h.location);
    await h.store.migrate();
    expect((await h.store.getJob("persist"))?.escrow).toBe(7n);
    expect((await h.store.jobByIdempotencyKey("alice", "pk"))?.id).toBe("persist");
    expect(await h.store.balance(avail)).toBe(70n);
    expect(await h.store.commit([submitOp(makeJob("persist", { escrow: 7n }))])).toEqual([
      { ok: true, ledgerApplied: false },
    ]);
  });

  it("rejects the whole batch when the database refuses a write", async () => {
    await h.fund(100n);
    // an escrow that passes the ledger check but a job row the database cannot store (NOT NULL)
    const broken = { ...makeJob("broken", { escrow: 5n }), requestHash: null as unknown as string };
    await expect(h.store.commit([submitOp(makeJob("fine", { escrow: 5n })), submitOp(broken)])).rejects.toThrow();
    expect(await h.store.getJob("fine")).toBeUndefined();
    expect(await h.store.balance(avail)).toBe(100n);
    // and the store still works afterwards
    expect(await h.store.commit([submitOp(makeJob("fine", { escrow: 5n }))])).toEqual([
      { ok: true, ledgerApplied: true },
    ]);
  });
}
