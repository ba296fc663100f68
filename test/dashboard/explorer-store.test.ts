// The explorer's read queries against a seeded store, on SQLite and (unless TESSERA_SKIP_PG=1)
// a real PostgreSQL: the same answers from both dialects' JSON functions and paging.
import { checkInvariants } from "@tessera/core";
import { openStore, type Store } from "@tessera/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgServer, startPgServer } from "../../packages/store/test/pg-server.js";
import { SEED_REGIONS, seedNetwork } from "./seed.js";

const NOW = 1_800_000_000_000;
const JOBS = 600;
const PROVIDERS = 24;

function explorerContract(open: () => Promise<Store>): void {
  let store: Store;
  beforeAll(async () => {
    store = await open();
    await seedNetwork(store, { providers: PROVIDERS, jobs: JOBS, now: NOW, spanMs: 600_000, signed: 5 });
  }, 120_000);
  afterAll(async () => store?.close());

  it("pages jobs newest first with a cursor and filters by status, runtime, provider and id prefix", async () => {
    const first = await store.explorer.jobsPage({ limit: 50 });
    expect(first).toHaveLength(50);
    expect(first[0]?.createdAt ?? 0).toBeGreaterThanOrEqual(first[49]?.createdAt ?? 0);
    const next = await store.explorer.jobsPage({ limit: 50, before: first[49]?.id });
    expect((next[0]?.id ?? "") < (first[49]?.id ?? "")).toBe(true);
    const counts = await store.countJobsByStatus();
    const failed = await store.explorer.jobsPage({ limit: 1000, status: "failed" });
    expect(failed.length).toBe(counts.failed);
    expect(failed.every((j) => j.status === "failed")).toBe(true);
    // units only on those billed: WASM jobs that trapped, at their own fault
    const billed = failed.filter((j) => j.cost !== null);
    expect(billed.length).toBeGreaterThan(0);
    expect(billed.length).toBeLessThan(failed.length);
    expect(failed.every((j) => (j.standardUnits === null) === (j.cost === null))).toBe(true);
    expect((await store.explorer.jobsPage({ limit: 5, runtime: "wasm" })).every((j) => j.runtime === "wasm")).toBe(
      true,
    );
    expect(await store.explorer.jobsPage({ limit: 5, runtime: "llm" })).toEqual([]);
    const one = first[7];
    const byPrefix = await store.explorer.jobsPage({ limit: 5, idPrefix: one?.id.slice(0, 24) });
    expect(byPrefix.map((j) => j.id)).toContain(one?.id);
    const mine = await store.explorer.jobsPage({ limit: 1000, providerId: one?.providerId ?? "" });
    expect(mine.every((j) => j.providerId === one?.providerId)).toBe(true);
  });

  it("aggregates a time window, regions and the leaderboard in SQL to the same totals", async () => {
    const w = await store.explorer.finishedWindow(0, NOW);
    const counts = await store.countJobsByStatus();
    expect(w.completed).toBe(counts.completed);
    expect(w.failed).toBe(counts.failed);
    expect(w.latenciesMs.length).toBe(counts.completed);
    const balances = await store.balances();
    let earnings = 0n;
    for (const [k, v] of balances) if (k.startsWith("provider:")) earnings += v;
    expect(w.earnings).toBe(earnings);
    expect(w.fees).toBe(balances.get("protocol:fees"));
    expect(w.spend).toBe(w.earnings + w.fees);

    const regions = await store.explorer.regions();
    expect(regions.map((r) => r.region).sort()).toEqual([...SEED_REGIONS].sort());
    expect(regions.reduce((s, r) => s + r.providers, 0)).toBe(PROVIDERS);

    // the work paid for: completed jobs and the billed failures (the spend and SU above count them too)
    const billedFailed = (await store.explorer.jobsPage({ limit: 1000, status: "failed" })).filter((j) => j.cost);
    const board = await store.explorer.leaderboard(100);
    expect(board.reduce((s, r) => s + r.jobs, 0)).toBe(counts.completed + billedFailed.length);
    expect(board.reduce((s, r) => s + r.standardUnits, 0)).toBe(w.standardUnits);
    expect(board[0]?.standardUnits).toBeGreaterThanOrEqual(board[1]?.standardUnits ?? 0);
  });

  it("pages providers by earnings and region, with history buckets and accounts", async () => {
    const page = await store.explorer.providersPage({ limit: 10, offset: 0, sort: "earnings" });
    expect(page.total).toBe(PROVIDERS);
    expect(page.rows).toHaveLength(10);
    expect(page.rows[0]?.earnings).toBeGreaterThanOrEqual(page.rows[9]?.earnings ?? 0n);
    const eu = await store.explorer.providersPage({ limit: 100, offset: 0, sort: "id", region: "eu-west" });
    expect(eu.total).toBe(PROVIDERS / SEED_REGIONS.length);
    expect(eu.rows.every((p) => p.capabilities.region === "eu-west")).toBe(true);

    const top = page.rows[0];
    const history = await store.explorer.providerHistory(top?.id ?? "", 0, 60_000);
    // whole minutes: the seeded jobs span 10 of them, so at most 11 buckets however many jobs
    expect(history.length).toBeLessThanOrEqual(11);
    expect(history.every((b) => b.at % 60_000 === 0)).toBe(true);
    // what the provider was paid, net of the protocol fee (the seed charges one), not its jobs' gross cost
    const earned = history.reduce((s, b) => s + b.earned, 0n);
    expect(earned).toBeGreaterThan(0n);
    expect(earned).toBe(await store.balance(`provider:${top?.id}:earnings`));
    expect(history.reduce((s, b) => s + b.completed, 0)).toBe(
      (await store.explorer.jobsPage({ limit: 1000, providerId: top?.id ?? "", status: "completed" })).length,
    );

    const accts = await store.explorer.accountsPage({ prefix: "provider:", offset: 0, limit: 5 });
    expect(accts.rows.every((a) => a.name.startsWith("provider:"))).toBe(true);
    // the public sees no consumer's accounts, a consumer only its own (ids hold LIKE's `_`)
    const all = await store.explorer.accountsPage({ offset: 0, limit: 200 });
    expect(all.rows).toHaveLength(all.total);
    const consumerAccounts = all.rows.filter((a) => a.name.startsWith("consumer:")).length;
    expect(consumerAccounts).toBeGreaterThan(20);
    const anon = await store.explorer.accountsPage({ offset: 0, limit: 200, onlyConsumer: null });
    expect(anon.total).toBe(all.total - consumerAccounts);
    expect(anon.rows.some((a) => a.name.startsWith("consumer:"))).toBe(false);
    const own = await store.explorer.accountsPage({
      prefix: "consumer:",
      offset: 0,
      limit: 200,
      onlyConsumer: "c_seed0001",
    });
    expect(own.rows.map((a) => a.name).sort()).toEqual(["consumer:c_seed0001:available", "consumer:c_seed0001:escrow"]);
    expect(checkInvariants(await store.balances()).ok).toBe(true);
    expect(await store.explorer.journalMismatches(10)).toEqual([]);
    const postings = await store.explorer.postingsPage({ limit: 3 });
    const older = await store.explorer.postingsPage({ limit: 3, beforeId: postings[2]?.id });
    expect(older[0]?.id).toBeLessThan(postings[2]?.id ?? 0);
  });
}

describe("explorer queries on sqlite", () => {
  explorerContract(() => openStore(":memory:"));
});

describe.skipIf(process.env.TESSERA_SKIP_PG === "1")("explorer queries on postgres", () => {
  let server: PgServer | undefined;
  explorerContract(async () => {
    server ??= await startPgServer();
    return openStore(await server.createDatabase());
  });
  afterAll(async () => server?.stop());
});
