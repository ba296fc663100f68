// The behaviour every Store must have, run against each dialect by sqlite.test.ts and
// postgres.test.ts. `fresh()` names an empty database (a file path or a postgres:// URL).
import {
  accounts,
  checkInvariants,
  depositEvent,
  EXTERNAL,
  FEES,
  refundEvent,
  settleEvent,
  withdrawEvent,
} from "@tessera/core";
import { IdempotencyConflict, InsufficientBalance } from "@tessera/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { makeJob, makeProvider, submitOp } from "./fixtures.js";

export interface StoreTarget {
  dialect: Store["dialect"];
  fresh(): Promise<string>;
}

const avail = accounts.available("alice");
const escrow = accounts.escrow("alice");

export function storeContract(target: StoreTarget): void {
  let location: string;
  let store: Store;
  beforeEach(async () => {
    location = await target.fresh();
    store = await openStore(location);
  });
  afterEach(async () => {
    await store.close();
  });

  async function fund(amount: bigint, consumer = "alice", id = `dep-${consumer}`): Promise<void> {
    const [r] = await store.commit([{ ledger: depositEvent(id, consumer, amount, 1) }]);
    expect(r).toEqual({ ok: true, ledgerApplied: true });
  }

  it(`opens a ${target.dialect} store`, () => {
    expect(store.dialect).toBe(target.dialect);
  });

  describe("commit", () => {
    it("answers an empty batch with no results", async () => {
      expect(await store.commit([])).toEqual([]);
    });

    it("applies a ledger event once, however often it is committed", async () => {
      await fund(500n);
      const again = await store.commit([{ ledger: depositEvent("dep-alice", "alice", 500n, 1) }]);
      expect(again).toEqual([{ ok: true, ledgerApplied: false }]);
      // and twice inside one batch
      const twice = await store.commit([
        { ledger: depositEvent("dep-2", "alice", 7n, 2) },
        { ledger: depositEvent("dep-2", "alice", 7n, 2) },
      ]);
      expect(twice).toEqual([
        { ok: true, ledgerApplied: true },
        { ok: true, ledgerApplied: false },
      ]);
      expect(await store.balance(avail)).toBe(507n);
      expect(await store.balance(EXTERNAL)).toBe(-507n);
      expect(await store.postings({ account: avail, limit: 10 })).toHaveLength(2);
    });

    it("still writes the rest of an op whose event was already applied", async () => {
      await fund(5_000n);
      const job = makeJob("j1");
      await store.commit([submitOp(job)]);
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
      expect(await store.commit([{ job: done, ledger: settle }])).toEqual([{ ok: true, ledgerApplied: true }]);
      const later = { ...done, error: "noted on replay", updatedAt: 9 };
      expect(await store.commit([{ job: later, ledger: settle }])).toEqual([{ ok: true, ledgerApplied: false }]);
      expect((await store.getJob("j1"))?.error).toBe("noted on replay");
      expect(await store.balance(accounts.earnings("p1"))).toBe(270n);
      expect(await store.balance(FEES)).toBe(30n);
      expect(await store.balance(avail)).toBe(5_000n - 300n);
      expect(await store.balance(escrow)).toBe(0n);
    });

    it("rejects an overdraft with InsufficientBalance and writes nothing of the op", async () => {
      await fund(100n);
      const job = makeJob("big", { escrow: 150n });
      const [r] = await store.commit([submitOp(job, "key-1")]);
      expect(r?.ok).toBe(false);
      if (r?.ok !== false) throw new Error("unreachable");
      expect(r.error).toBeInstanceOf(InsufficientBalance);
      expect(r.error.code).toBe("insufficient_balance");
      expect(r.error.message).toContain("150");
      expect(r.error.message).toContain("100");
      expect(await store.getJob("big")).toBeUndefined();
      expect(await store.jobByIdempotencyKey("alice", "key-1")).toBeUndefined();
      expect(await store.balance(avail)).toBe(100n);
      expect(await store.postings({ jobId: "big", limit: 10 })).toEqual([]);
      // the event was not recorded as applied: once funded, the same op goes through
      await fund(50n, "alice", "dep-more");
      expect(await store.commit([submitOp(job, "key-1")])).toEqual([{ ok: true, ledgerApplied: true }]);
      expect(await store.balance(escrow)).toBe(150n);
    });

    it("lets only the external account go negative", async () => {
      await fund(10n);
      const [w] = await store.commit([{ ledger: withdrawEvent("w1", "alice", 11n, 2) }]);
      expect(w?.ok).toBe(false);
      expect(await store.commit([{ ledger: withdrawEvent("w2", "alice", 10n, 2) }])).toEqual([
        { ok: true, ledgerApplied: true },
      ]);
      expect(await store.balance(avail)).toBe(0n);
      expect(await store.balance(EXTERNAL)).toBe(0n);
      expect(checkInvariants(await store.balances()).ok).toBe(true);
    });

    it("fails an op whose idempotency key another job holds, and writes nothing of it", async () => {
      await fund(1_000n);
      const first = makeJob("first", { escrow: 10n, idempotencyKey: "k" });
      const second = makeJob("second", { escrow: 10n, idempotencyKey: "k" });
      expect(await store.commit([submitOp(first, "k")])).toEqual([{ ok: true, ledgerApplied: true }]);
      const [r] = await store.commit([submitOp(second, "k")]);
      expect(r?.ok).toBe(false);
      if (r?.ok !== false) throw new Error("unreachable");
      expect(r.error).toBeInstanceOf(IdempotencyConflict);
      expect(r.error.code).toBe("idempotency_conflict");
      expect(await store.getJob("second")).toBeUndefined();
      expect(await store.balance(escrow)).toBe(10n);
      expect((await store.jobByIdempotencyKey("alice", "k"))?.id).toBe("first");
      // keys are per consumer
      await fund(100n, "bob");
      const bobs = makeJob("bobs", { consumerId: "bob", escrow: 10n });
      expect(await store.commit([submitOp(bobs, "k")])).toEqual([{ ok: true, ledgerApplied: true }]);
      expect((await store.jobByIdempotencyKey("bob", "k"))?.id).toBe("bobs");
      // a replay of the claiming op itself is not a conflict
      expect(await store.commit([submitOp(first, "k")])).toEqual([{ ok: true, ledgerApplied: false }]);
    });

    it("keeps a failing op from affecting the other ops of its batch", async () => {
      await fund(100n);
      await store.commit([submitOp(makeJob("holder", { escrow: 1n }), "taken")]);
      const results = await store.commit([
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
      for (const id of ["a", "b", "d"]) expect((await store.getJob(id))?.status).toBe("queued");
      for (const id of ["too-big", "dup", "c", "e"]) expect(await store.getJob(id)).toBeUndefined();
      expect((await store.jobByIdempotencyKey("alice", "kb"))?.id).toBe("b");
      expect(await store.balance(escrow)).toBe(1n + 30n + 40n + 30n);
      expect(await store.balance(avail)).toBe(0n);
      expect(checkInvariants(await store.balances()).ok).toBe(true);
    });

    it("merges two writes of one attempt in a batch like the upsert does", async () => {
      const job = makeJob("j");
      await store.commit([
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
      expect(await store.attempts("j")).toEqual([
        { jobId: "j", attempt: 1, providerId: "p1", leasedAt: 10, endedAt: 20, outcome: "expired", reason: "lost" },
      ]);
    });
  });

  it("round-trips amounts above 2^53 exactly", async () => {
    const huge = 2n ** 60n + 12_345n;
    await fund(huge);
    const job = makeJob("huge", { escrow: 2n ** 53n + 3n });
    await store.commit([submitOp(job)]);
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
    await store.commit([{ job: done, ledger: settle }]);
    const got = await store.getJob("huge");
    expect(got?.escrow).toBe(2n ** 53n + 3n);
    expect(got?.cost).toBe(cost);
    expect(await store.balance(avail)).toBe(huge - cost);
    expect(await store.balance(accounts.earnings("p"))).toBe(cost);
    expect(await store.balance(EXTERNAL)).toBe(-huge);
    expect((await store.balances()).get(avail)).toBe(huge - cost);
    expect(await store.spent("alice")).toBe(cost);
    const amounts = (await store.postings({ jobId: "huge", limit: 10 })).map((p) => p.amount);
    expect(amounts.sort()).toEqual([2n, cost, 2n ** 53n + 3n].sort());
  });

  it("round-trips a job with every field set, and replaces it on a later write", async () => {
    const job = makeJob("full", {
      status: "completed",
      attempt: 2,
      maxAttempts: 5,
      providerId: "p-7",
      pricePerUnit: 17,
      leaseExpiresAt: null,
      triedProviders: ["p-1", "p-2"],
      escrow: 123_456_789n,
      cost: 98_765n,
      units: { inputTokens: 12, outputTokens: 34, standardUnits: 5_678 },
      output: { text: "héllo ✓", tokens: [1, 2, 3], logprobs: [-0.125, -1e-9, -3.5], finishReason: "length" },
      outputHash: "ef".repeat(32),
      signature: "00ff".repeat(32),
      error: null,
      idempotencyKey: "idem/1",
      jobClass: "batch",
      startedAt: 1_700_000_000_500,
      finishedAt: 1_700_000_009_999,
      updatedAt: 1_700_000_009_999,
    });
    await store.commit([{ job }]);
    expect(await store.getJob("full")).toEqual(job);

    const wasm = makeJob("full", {
      spec: {
        runtime: "wasm",
        module: "12".repeat(32),
        input: { data: "AAEC" },
        limits: { timeoutMs: 500, maxMemoryMb: 16 },
      },
      constraints: {},
      deadlineAt: null,
      output: { data: "AQID" },
    });
    await store.commit([{ job: wasm }]);
    expect(await store.getJob("full")).toEqual(wasm);
    expect(await store.getJob("nope")).toBeUndefined();
  });

  it("pages listJobs newest first with a cursor, within filters", async () => {
    const jobs = Array.from({ length: 25 }, (_, i) =>
      makeJob(`job-${String(i).padStart(2, "0")}`, {
        // pairs share a timestamp so the id breaks ties
        createdAt: 1_000 + Math.floor(i / 2),
        consumerId: i % 3 === 0 ? "bob" : "alice",
        status: i % 5 === 0 ? "completed" : "queued",
        providerId: i % 5 === 0 ? "p1" : null,
      }),
    );
    await store.commit(jobs.map((job) => ({ job })));
    const newestFirst = [...jobs].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((j) => j.id);

    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listJobs({ limit: 10, before });
      if (page.length === 0) break;
      seen.push(...page.map((j) => j.id));
      before = page.at(-1)?.id;
    }
    expect(seen).toEqual(newestFirst);

    const bobs = await store.listJobs({ consumerId: "bob", limit: 100 });
    expect(bobs.map((j) => j.id)).toEqual(newestFirst.filter((id) => Number(id.slice(4)) % 3 === 0));
    const completed = await store.listJobs({ status: "completed", limit: 2 });
    expect(completed.map((j) => j.id)).toEqual(["job-20", "job-15"]);
    const next = await store.listJobs({ status: "completed", limit: 10, before: "job-15" });
    expect(next.map((j) => j.id)).toEqual(["job-10", "job-05", "job-00"]);
    expect((await store.listJobs({ providerId: "p1", consumerId: "bob", limit: 10 })).map((j) => j.id)).toEqual([
      "job-15",
      "job-00",
    ]);
    expect(await store.listJobs({ limit: 10, before: "no-such-job" })).toEqual([]);
  });

  it("lists queued and running jobs as active, oldest first, and counts jobs by status", async () => {
    const statuses = ["queued", "running", "completed", "failed", "cancelled", "running", "queued"] as const;
    await store.commit(statuses.map((status, i) => ({ job: makeJob(`s${i}`, { status, createdAt: 100 - i }) })));
    expect((await store.activeJobs()).map((j) => j.id)).toEqual(["s6", "s5", "s1", "s0"]);
    expect(await store.countJobsByStatus()).toEqual({ queued: 2, running: 2, completed: 1, failed: 1, cancelled: 1 });
  });

  it("counts zero for statuses with no jobs", async () => {
    expect(await store.countJobsByStatus()).toEqual({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
  });

  it("upserts attempts: a later write only ends the attempt", async () => {
    const running = {
      jobId: "j",
      attempt: 1,
      providerId: "p1",
      leasedAt: 10,
      endedAt: null,
      outcome: "running" as const,
      reason: null,
    };
    await store.commit([{ attempt: running }]);
    await store.commit([{ attempt: { ...running, attempt: 2, providerId: "p2", leasedAt: 30 } }]);
    await store.commit([
      {
        attempt: {
          jobId: "j",
          attempt: 1,
          providerId: "other",
          leasedAt: 999,
          endedAt: 25,
          outcome: "expired",
          reason: "lease lost",
        },
      },
    ]);
    expect(await store.attempts("j")).toEqual([
      { jobId: "j", attempt: 1, providerId: "p1", leasedAt: 10, endedAt: 25, outcome: "expired", reason: "lease lost" },
      { jobId: "j", attempt: 2, providerId: "p2", leasedAt: 30, endedAt: null, outcome: "running", reason: null },
    ]);
    expect(await store.attempts("other")).toEqual([]);
  });

  it("stores consumers and API keys, finds keys by hash and revokes them once", async () => {
    await store.createConsumer({ id: "alice", name: "Alice Ltd", createdAt: 5 });
    expect(await store.getConsumer("alice")).toEqual({ id: "alice", name: "Alice Ltd", createdAt: 5 });
    expect(await store.getConsumer("nobody")).toBeUndefined();

    const key = {
      hash: "aa".repeat(32),
      consumerId: "alice",
      scopes: ["jobs", "admin"],
      createdAt: 6,
      revokedAt: null,
    };
    await store.createApiKey(key);
    await store.createApiKey({ ...key, hash: "bb".repeat(32), scopes: [] });
    expect(await store.findApiKey(key.hash)).toEqual(key);
    expect(await store.findApiKey("cc".repeat(32))).toBeUndefined();

    await store.revokeApiKey(key.hash, 100);
    await store.revokeApiKey(key.hash, 200);
    expect(await store.findApiKey(key.hash)).toEqual({ ...key, revokedAt: 100 });
    expect((await store.findApiKey("bb".repeat(32)))?.revokedAt).toBeNull();
    await expect(store.createApiKey(key)).rejects.toThrow();
  });

  it("stores providers through commit, lists them and marks them all offline", async () => {
    await store.commit([{ provider: makeProvider("p2") }, { provider: makeProvider("p1", { online: false }) }]);
    expect(await store.getProvider("p2")).toEqual(makeProvider("p2"));
    expect(await store.getProvider("p9")).toBeUndefined();
    await store.commit([{ provider: makeProvider("p2", { completed: 8, lastSeenAt: 1_700_000_009_000 }) }]);
    expect((await store.listProviders()).map((p) => [p.id, p.completed, p.online])).toEqual([
      ["p1", 7, false],
      ["p2", 8, true],
    ]);
    await store.markAllProvidersOffline();
    expect((await store.listProviders()).map((p) => p.online)).toEqual([false, false]);
    expect((await store.getProvider("p2"))?.capabilities).toEqual(makeProvider("p2").capabilities);
  });

  it("stores blobs byte for byte", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) % 256);
    await store.putBlob("b1", bytes, 10);
    await store.putBlob("empty", new Uint8Array(0), 11);
    // a view into a larger buffer stores only the view
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    await store.putBlob("view", backing.subarray(2, 5), 12);
    const got = await store.getBlob("b1");
    expect(got).toBeInstanceOf(Uint8Array);
    // compared as one buffer: element-wise deep equality is slow at this size
    expect(got && Buffer.from(got).equals(bytes)).toBe(true);
    expect(await store.getBlob("empty")).toEqual(new Uint8Array(0));
    expect(await store.getBlob("view")).toEqual(new Uint8Array([1, 2, 3]));
    expect(await store.getBlob("missing")).toBeUndefined();
    // content-addressed: a second put of an id changes nothing
    await store.putBlob("view", new Uint8Array([7]), 13);
    expect(await store.getBlob("view")).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("answers postings by job and by account, newest first", async () => {
    await fund(1_000n);
    const job = makeJob("pj", { escrow: 100n });
    await store.commit([submitOp(job)]);
    await store.commit([{ ledger: refundEvent("pj", "alice", 100n, 50) }]);
    const byJob = await store.postings({ jobId: "pj", limit: 10 });
    expect(byJob).toEqual([
      { eventId: "job:pj:refund", kind: "refund", jobId: "pj", at: 50, from: escrow, to: avail, amount: 100n },
      {
        eventId: "job:pj:escrow",
        kind: "escrow",
        jobId: "pj",
        at: job.createdAt,
        from: avail,
        to: escrow,
        amount: 100n,
      },
    ]);
    const byAccount = await store.postings({ account: avail, limit: 2 });
    expect(byAccount.map((p) => p.eventId)).toEqual(["job:pj:refund", "job:pj:escrow"]);
    expect((await store.postings({ account: EXTERNAL, limit: 10 })).map((p) => p.kind)).toEqual(["deposit"]);
  });

  it("sums the cost of a consumer's completed jobs as spent", async () => {
    await store.commit([
      { job: makeJob("c1", { status: "completed", cost: 10n }) },
      { job: makeJob("c2", { status: "completed", cost: 32n }) },
      { job: makeJob("c3", { status: "failed", cost: null }) },
      { job: makeJob("c4", { status: "completed", cost: 1_000n, consumerId: "bob" }) },
    ]);
    expect(await store.spent("alice")).toBe(42n);
    expect(await store.spent("bob")).toBe(1_000n);
    expect(await store.spent("carol")).toBe(0n);
  });

  it("keeps everything across a close and reopen, and migrates idempotently", async () => {
    await fund(77n);
    await store.commit([submitOp(makeJob("persist", { escrow: 7n }), "pk")]);
    await store.close();
    store = await openStore(location);
    await store.migrate();
    expect((await store.getJob("persist"))?.escrow).toBe(7n);
    expect((await store.jobByIdempotencyKey("alice", "pk"))?.id).toBe("persist");
    expect(await store.balance(avail)).toBe(70n);
    expect(await store.commit([submitOp(makeJob("persist", { escrow: 7n }))])).toEqual([
      { ok: true, ledgerApplied: false },
    ]);
  });

  it("rejects the whole batch when the database refuses a write", async () => {
    await fund(100n);
    // an escrow that passes the ledger check but a job row the database cannot store (NOT NULL)
    const broken = { ...makeJob("broken", { escrow: 5n }), requestHash: null as unknown as string };
    await expect(store.commit([submitOp(makeJob("fine", { escrow: 5n })), submitOp(broken)])).rejects.toThrow();
    expect(await store.getJob("fine")).toBeUndefined();
    expect(await store.balance(avail)).toBe(100n);
    // and the store still works afterwards
    expect(await store.commit([submitOp(makeJob("fine", { escrow: 5n }))])).toEqual([
      { ok: true, ledgerApplied: true },
    ]);
  });
}
