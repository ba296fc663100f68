// Contract, part 2: reads and the small writes outside commit.
import { accounts, EXTERNAL, escrowEvent, refundEvent, settleEvent } from "@tessera/core";
import { expect, it } from "vitest";
import type { Harness } from "./contract.js";
import { makeBatch, makeBatchFile, makeJob, makeProvider, submitOp } from "./fixtures.js";

const avail = accounts.available("alice");
const escrow = accounts.escrow("alice");

export function queryContract(h: Harness): void {
  it("round-trips a job with every field set, llm and wasm", async () => {
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
    await h.store.commit([{ job }]);
    expect(await h.store.getJob("full")).toEqual(job);

    const wasm = makeJob("full-wasm", {
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
    await h.store.commit([{ job: wasm }]);
    expect(await h.store.getJob("full-wasm")).toEqual(wasm);
    expect(await h.store.getJob("nope")).toBeUndefined();
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
    await h.store.commit(jobs.map((job) => ({ job })));
    const newestFirst = [...jobs].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((j) => j.id);

    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await h.store.listJobs({ limit: 10, before });
      if (page.length === 0) break;
      seen.push(...page.map((j) => j.id));
      before = page.at(-1)?.id;
    }
    expect(seen).toEqual(newestFirst);

    const bobs = await h.store.listJobs({ consumerId: "bob", limit: 100 });
    expect(bobs.map((j) => j.id)).toEqual(newestFirst.filter((id) => Number(id.slice(4)) % 3 === 0));
    const completed = await h.store.listJobs({ status: "completed", limit: 2 });
    expect(completed.map((j) => j.id)).toEqual(["job-20", "job-15"]);
    const next = await h.store.listJobs({ status: "completed", limit: 10, before: "job-15" });
    expect(next.map((j) => j.id)).toEqual(["job-10", "job-05", "job-00"]);
    expect((await h.store.listJobs({ providerId: "p1", consumerId: "bob", limit: 10 })).map((j) => j.id)).toEqual([
      "job-15",
      "job-00",
    ]);
    expect(await h.store.listJobs({ limit: 10, before: "no-such-job" })).toEqual([]);
    // the same page as ids and output sizes, without the jobs
    const sizes = await h.store.listJobSizes({ status: "completed", limit: 10, before: "job-15" });
    expect(sizes).toEqual(next.map((j) => ({ id: j.id, outputChars: 0 })));
  });

  it("gives listJobSizes each output's stored size", async () => {
    const out = (data: string) => ({ data });
    await h.store.commit([
      {
        job: makeJob("size-a", {
          consumerId: "sizer",
          createdAt: 10,
          status: "completed",
          output: out("A".repeat(1000)),
        }),
      },
      { job: makeJob("size-b", { consumerId: "sizer", createdAt: 11 }) },
    ]);
    expect(await h.store.listJobSizes({ consumerId: "sizer", limit: 10 })).toEqual([
      { id: "size-b", outputChars: 0 },
      { id: "size-a", outputChars: JSON.stringify(out("A".repeat(1000))).length },
    ]);
  });

  it("reads several jobs by id at once, leaving out ids that do not exist", async () => {
    await h.store.commit(["g1", "g2", "g3"].map((id) => ({ job: makeJob(id) })));
    const jobs = await h.store.getJobs(["g3", "missing", "g1"]);
    expect(jobs.map((j) => j.id).sort()).toEqual(["g1", "g3"]);
    expect(jobs.find((j) => j.id === "g1")).toEqual(await h.store.getJob("g1"));
    expect(await h.store.getJobs([])).toEqual([]);
  });

  it("lists queued and running jobs as active, oldest first, and counts jobs by status", async () => {
    const statuses = ["queued", "running", "completed", "failed", "cancelled", "running", "queued"] as const;
    await h.store.commit(statuses.map((status, i) => ({ job: makeJob(`s${i}`, { status, createdAt: 100 - i }) })));
    expect((await h.store.activeJobs()).map((j) => j.id)).toEqual(["s6", "s5", "s1", "s0"]);
    expect(await h.store.countJobsByStatus()).toEqual({ queued: 2, running: 2, completed: 1, failed: 1, cancelled: 1 });
  });

  it("counts zero for statuses with no jobs", async () => {
    expect(await h.store.countJobsByStatus()).toEqual({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
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
    await h.store.commit([{ attempt: running }]);
    await h.store.commit([{ attempt: { ...running, attempt: 2, providerId: "p2", leasedAt: 30 } }]);
    await h.store.commit([
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
    expect(await h.store.attempts("j")).toEqual([
      { jobId: "j", attempt: 1, providerId: "p1", leasedAt: 10, endedAt: 25, outcome: "expired", reason: "lease lost" },
      { jobId: "j", attempt: 2, providerId: "p2", leasedAt: 30, endedAt: null, outcome: "running", reason: null },
    ]);
    expect(await h.store.attempts("other")).toEqual([]);
  });

  it("stores consumers and API keys, finds keys by hash and revokes them once", async () => {
    await h.store.createConsumer({ id: "alice", name: "Alice Ltd", createdAt: 5 });
    expect(await h.store.getConsumer("alice")).toEqual({ id: "alice", name: "Alice Ltd", createdAt: 5 });
    expect(await h.store.getConsumer("nobody")).toBeUndefined();

    const key = {
      hash: "aa".repeat(32),
      consumerId: "alice",
      scopes: ["jobs", "admin"],
      createdAt: 6,
      revokedAt: null,
    };
    await h.store.createApiKey(key);
    await h.store.createApiKey({ ...key, hash: "bb".repeat(32), scopes: [] });
    expect(await h.store.findApiKey(key.hash)).toEqual(key);
    expect(await h.store.findApiKey("cc".repeat(32))).toBeUndefined();

    await h.store.revokeApiKey(key.hash, 100);
    await h.store.revokeApiKey(key.hash, 200);
    expect(await h.store.findApiKey(key.hash)).toEqual({ ...key, revokedAt: 100 });
    expect((await h.store.findApiKey("bb".repeat(32)))?.revokedAt).toBeNull();
    await expect(h.store.createApiKey(key)).rejects.toThrow();
  });

  it("stores providers through commit, lists them and marks them all offline", async () => {
    await h.store.commit([{ provider: makeProvider("p2") }, { provider: makeProvider("p1", { online: false }) }]);
    expect(await h.store.getProvider("p2")).toEqual(makeProvider("p2"));
    expect(await h.store.getProvider("p9")).toBeUndefined();
    // a later connection's record: first seen stays the first
    await h.store.commit([
      { provider: makeProvider("p2", { completed: 8, firstSeenAt: 1_700_000_008_000, lastSeenAt: 1_700_000_009_000 }) },
    ]);
    expect(await h.store.getProvider("p2")).toMatchObject({
      firstSeenAt: 1_700_000_000_000,
      lastSeenAt: 1_700_000_009_000,
    });
    expect((await h.store.listProviders()).map((p) => [p.id, p.completed, p.online])).toEqual([
      ["p1", 7, false],
      ["p2", 8, true],
    ]);
    await h.store.markAllProvidersOffline();
    expect((await h.store.listProviders()).map((p) => p.online)).toEqual([false, false]);
    expect((await h.store.getProvider("p2"))?.capabilities).toEqual(makeProvider("p2").capabilities);
  });

  it("stores blobs byte for byte", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) % 256);
    await h.store.putBlob("b1", bytes, 10);
    await h.store.putBlob("empty", new Uint8Array(0), 11);
    // a view into a larger buffer stores only the view
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    await h.store.putBlob("view", backing.subarray(2, 5), 12);
    const got = await h.store.getBlob("b1");
    expect(got).toBeInstanceOf(Uint8Array);
    // compared as one buffer: element-wise deep equality is slow at this size
    expect(got && Buffer.from(got).equals(bytes)).toBe(true);
    expect(await h.store.getBlob("empty")).toEqual(new Uint8Array(0));
    expect(await h.store.getBlob("view")).toEqual(new Uint8Array([1, 2, 3]));
    expect(await h.store.getBlob("missing")).toBeUndefined();
    expect(await h.store.hasBlob("b1")).toBe(true);
    expect(await h.store.hasBlob("missing")).toBe(false);
    // content-addressed: a second put of an id changes nothing
    await h.store.putBlob("view", new Uint8Array([7]), 13);
    expect(await h.store.getBlob("view")).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("answers postings by job and by account, newest first", async () => {
    await h.fund(1_000n);
    const job = makeJob("pj", { escrow: 100n });
    await h.store.commit([submitOp(job)]);
    await h.store.commit([{ ledger: refundEvent("pj", "alice", 100n, 50) }]);
    const byJob = await h.store.postings({ jobId: "pj", limit: 10 });
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
    const byAccount = await h.store.postings({ account: avail, limit: 2 });
    expect(byAccount.map((p) => p.eventId)).toEqual(["job:pj:refund", "job:pj:escrow"]);
    expect((await h.store.postings({ account: EXTERNAL, limit: 10 })).map((p) => p.kind)).toEqual(["deposit"]);
  });

  it("finds a provider's settled earnings with no share distribution since a time", async () => {
    await h.fund(1_000n);
    const settle = (jobId: string, cost: bigint, at: number) => [
      { ledger: escrowEvent(jobId, "alice", cost, at) },
      { ledger: settleEvent({ jobId, consumerId: "alice", providerId: "p1", escrowed: cost, cost, feeBps: 500, at }) },
    ];
    await h.store.commit([...settle("old", 100n, 5), ...settle("a", 200n, 20), ...settle("b", 300n, 30)]);
    await h.store.commit([{ ledger: { id: "shares:b:distribute", kind: "share_distribute", at: 31, transfers: [] } }]);
    expect(await h.store.settlement.undistributedEarnings("p1", 10)).toEqual([{ jobId: "a", amount: 190n }]);
    expect(await h.store.settlement.undistributedEarnings("p2", 0)).toEqual([]);
    await h.store.settlement.putSharesBook("p1", "{}", 1);
    expect(await h.store.settlement.sharesProviders()).toEqual(["p1"]);
  });

  it("sums the cost of a consumer's completed jobs as spent", async () => {
    await h.store.commit([
      { job: makeJob("c1", { status: "completed", cost: 10n }) },
      { job: makeJob("c2", { status: "completed", cost: 32n }) },
      { job: makeJob("c3", { status: "failed", cost: null }) },
      { job: makeJob("c4", { status: "completed", cost: 1_000n, consumerId: "bob" }) },
    ]);
    expect(await h.store.spent("alice")).toBe(42n);
    expect(await h.store.spent("bob")).toBe(1_000n);
    expect(await h.store.spent("carol")).toBe(0n);
  });

  it("pages a consumer's batch files (by purpose, either order) and batches newest first, ties on time broken by id", async () => {
    const b = h.store.batches;
    // f2a and f2b share a time: the id orders them, so a page boundary between them loses neither
    for (const f of [
      makeBatchFile("f1", "alice", 100),
      makeBatchFile("f2a", "alice", 200),
      makeBatchFile("f2b", "alice", 200),
    ])
      await b.putFile(f);
    await b.putFile(makeBatchFile("f9", "bob", 300));
    await b.putFile(makeBatchFile("f3", "alice", 300));
    const ids = async (after?: string, limit = 2) => (await b.listFiles("alice", { after, limit })).map((f) => f.id);
    expect(await ids(undefined, 10)).toEqual(["f3", "f2b", "f2a", "f1"]);
    expect(await ids()).toEqual(["f3", "f2b"]);
    expect(await ids("f2b")).toEqual(["f2a", "f1"]);
    expect(await ids("f1")).toEqual([]);
    // oldest first, and by purpose
    const asc = async (after?: string) =>
      (await b.listFiles("alice", { after, limit: 2, order: "asc" })).map((f) => f.id);
    expect(await asc()).toEqual(["f1", "f2a"]);
    expect(await asc("f2a")).toEqual(["f2b", "f3"]);
    await b.putFile({ ...makeBatchFile("o1", "alice", 400), purpose: "batch_output" });
    const of = async (purpose: "batch" | "batch_output") =>
      (await b.listFiles("alice", { limit: 10, purpose })).map((f) => f.id);
    expect(await of("batch_output")).toEqual(["o1"]);
    expect(await of("batch")).toEqual(["f3", "f2b", "f2a", "f1"]);
    expect(await ids(undefined, 10)).toEqual(["o1", "f3", "f2b", "f2a", "f1"]);

    for (const x of [makeBatch("b1", 10), makeBatch("b2", 20), makeBatch("b3", 20)]) await b.putBatch(x);
    const page = await b.listBatches("alice", { after: "b3", limit: 5 });
    expect(page.map((x) => x.id)).toEqual(["b2", "b1"]);
    expect(page[0]).toEqual(makeBatch("b2", 20));
    expect(await b.listBatches("bob", { limit: 5 })).toEqual([]);
  });

  it("finds batch files past their expiry, earliest first, and leaves them out of a list of the files live then", async () => {
    const b = h.store.batches;
    const expiring = (id: string, createdAt: number, expiresAt: number | null) => ({
      ...makeBatchFile(id, "alice", createdAt),
      purpose: "batch_output" as const,
      expiresAt,
    });
    await b.putFile(makeBatchFile("in", "alice", 100));
    await b.putFile(expiring("late", 200, 5_000));
    await b.putFile(expiring("soon", 300, 1_000));
    await b.putFile(expiring("never", 400, null));
    const expired = async (now: number, limit = 10) => (await b.expiredFiles(now, limit)).map((f) => f.id);
    expect(await expired(999)).toEqual([]);
    expect(await expired(1_000)).toEqual(["soon"]);
    expect(await expired(5_000)).toEqual(["soon", "late"]);
    expect(await expired(5_000, 1)).toEqual(["soon"]);
    expect(await b.getFile("soon")).toMatchObject({ expiresAt: 1_000 });
    const live = async (liveAt: number) => (await b.listFiles("alice", { limit: 10, liveAt })).map((f) => f.id);
    expect(await live(999)).toEqual(["never", "soon", "late", "in"]);
    expect(await live(1_000)).toEqual(["never", "late", "in"]);
    expect(await live(5_000)).toEqual(["never", "in"]);
  });
}
