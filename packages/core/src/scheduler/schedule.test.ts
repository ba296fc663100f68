import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mismatch } from "./match.js";
import { type ScheduleInput, schedule } from "./schedule.js";
import type { ProviderView } from "./types.js";

const MODEL = "aa".repeat(32);
type QueuedJob = ScheduleInput["queued"][number];

function provider(
  id: string,
  overrides: Partial<ProviderView> = {},
  caps: Partial<ProviderView["capabilities"]> = {},
): ProviderView {
  return {
    id,
    capabilities: {
      runtimes: ["llm", "wasm"],
      models: [{ id: MODEL, name: "m", parameters: 1_000_000, contextSize: 2048 }],
      pricePerUnit: 10,
      region: "eu-west",
      maxConcurrency: 1,
      throughput: 100,
      ...caps,
    },
    running: 0,
    reputation: 0.5,
    latencyMs: null,
    draining: false,
    online: true,
    ...overrides,
  };
}

function job(id: string, consumerId = "c1", overrides: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id,
    consumerId,
    spec: {
      runtime: "llm",
      model: MODEL,
      input: { prompt: "hi" },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 8 },
    },
    constraints: {},
    triedProviders: [],
    ...overrides,
  };
}

const assigned = (input: ScheduleInput) => Object.fromEntries(schedule(input).map((a) => [a.jobId, a.providerId]));

describe("schedule", () => {
  it("assigns only to providers that meet the job's constraints", () => {
    const providers = [
      provider("cheap-far", {}, { region: "us-east", pricePerUnit: 1 }),
      provider("wasm-only", {}, { runtimes: ["wasm"], pricePerUnit: 1 }),
      provider("no-model", {}, { models: [], pricePerUnit: 1 }),
      provider("dear", {}, { pricePerUnit: 50 }),
      provider("shady", { reputation: 0.1 }, { pricePerUnit: 1 }),
      provider("full", { running: 1 }, { pricePerUnit: 1 }),
      provider("ok", {}, { pricePerUnit: 20 }),
    ];
    const j = job("j", "c1", { constraints: { regions: ["eu-west"], maxPricePerUnit: 30, minReputation: 0.3 } });
    expect(schedule({ queued: [j], providers })).toEqual([{ jobId: "j", providerId: "ok", pricePerUnit: 20 }]);
  });

  it("prefers cheaper, less loaded and more reputable providers", () => {
    expect(
      assigned({ queued: [job("j")], providers: [provider("dear", {}, { pricePerUnit: 20 }), provider("cheap")] }),
    ).toEqual({ j: "cheap" });
    const loaded = [
      provider("busy", { running: 3 }, { maxConcurrency: 4 }),
      provider("idle", {}, { maxConcurrency: 4 }),
    ];
    expect(assigned({ queued: [job("j")], providers: loaded })).toEqual({ j: "idle" });
    const rep = [provider("new", { reputation: 0.5 }), provider("proven", { reputation: 0.95 })];
    expect(assigned({ queued: [job("j")], providers: rep })).toEqual({ j: "proven" });
  });

  it("spreads a round's jobs as load builds up", () => {
    const providers = [provider("a", {}, { maxConcurrency: 2 }), provider("b", {}, { maxConcurrency: 2 })];
    const a = schedule({ queued: [job("j1"), job("j2")], providers });
    expect(new Set(a.map((x) => x.providerId))).toEqual(new Set(["a", "b"]));
  });

  it("retries a job on a provider it has not tried, unless none other can take it", () => {
    const providers = [provider("tried", {}, { pricePerUnit: 1 }), provider("fresh", {}, { pricePerUnit: 50 })];
    expect(assigned({ queued: [job("j", "c1", { triedProviders: ["tried"] })], providers })).toEqual({ j: "fresh" });
    expect(assigned({ queued: [job("j", "c1", { triedProviders: ["tried"] })], providers: [providers[0]!] })).toEqual({
      j: "tried",
    });
  });

  it("serves a consumer with one job in the first round even behind another's hundred", () => {
    const queued = [...Array.from({ length: 100 }, (_, i) => job(`big-${i}`, "big")), job("small-0", "small")];
    const providers = [provider("p1"), provider("p2")];
    const a = schedule({ queued, providers });
    expect(a).toHaveLength(2);
    expect(a.map((x) => x.jobId).sort()).toEqual(["big-0", "small-0"]);
  });

  it("serves the consumer served least recently first", () => {
    const queued = [job("a1", "a"), job("b1", "b")];
    const lastServed = new Map([["a", 500]]);
    expect(schedule({ queued, providers: [provider("p1")], lastServed }).map((x) => x.jobId)).toEqual(["b1"]);
    lastServed.set("b", 900);
    expect(schedule({ queued, providers: [provider("p1")], lastServed }).map((x) => x.jobId)).toEqual(["a1"]);
  });

  it("keeps a consumer's jobs in FIFO order and skips jobs nobody can take", () => {
    const queued = [
      job("stuck", "c1", { constraints: { regions: ["mars"] } }),
      job("first"),
      job("second"),
      job("third"),
    ];
    const a = schedule({ queued, providers: [provider("p1", {}, { maxConcurrency: 2 })] });
    expect(a.map((x) => x.jobId)).toEqual(["first", "second"]);
  });

  it("leases no job whose deadline has passed, however free the providers", () => {
    const queued = [
      job("late", "c1", { deadlineAt: 1_000 }),
      job("due-now", "c1", { deadlineAt: 2_000 }),
      job("on-time", "c1", { deadlineAt: 2_001 }),
    ];
    const a = schedule({ queued, providers: [provider("p1", {}, { maxConcurrency: 3 })], now: 2_000 });
    expect(a.map((x) => x.jobId)).toEqual(["on-time"]);
  });

  it("assigns nothing when no provider has free capacity", () => {
    const providers = [provider("p1", { running: 1 }), provider("p2", { online: false })];
    expect(schedule({ queued: [job("j")], providers })).toEqual([]);
  });
});

const regions = ["eu-west", "us-east"] as const;
const providerArb = fc.record({
  running: fc.nat(4),
  maxConcurrency: fc.integer({ min: 1, max: 4 }),
  online: fc.boolean(),
  draining: fc.boolean(),
  runtimes: fc.subarray(["llm", "wasm"] as ("llm" | "wasm")[], { minLength: 1 }),
  hasModel: fc.boolean(),
  region: fc.constantFrom(...regions),
  price: fc.nat(20),
  reputation: fc.double({ min: 0, max: 1, noNaN: true }),
  latencyMs: fc.option(fc.integer({ min: 1, max: 1_000 })),
});
const jobArb = fc.record({
  consumer: fc.nat(3),
  runtime: fc.constantFrom("llm" as const, "wasm" as const),
  region: fc.option(fc.constantFrom(...regions)),
  maxPrice: fc.option(fc.nat(20)),
  minReputation: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
  tried: fc.array(fc.nat(9), { maxLength: 3 }),
});

describe("schedule (property)", () => {
  it("never over-commits a provider, never assigns a job twice, and only assigns where the job fits", () => {
    fc.assert(
      fc.property(
        fc.array(providerArb, { maxLength: 10 }),
        fc.array(jobArb, { maxLength: 40 }),
        fc.option(fc.nat(3)),
        (ps, js, served) => {
          const providers = ps.map((p, i) =>
            provider(
              `p${i}`,
              {
                running: p.running,
                online: p.online,
                draining: p.draining,
                reputation: p.reputation,
                latencyMs: p.latencyMs,
              },
              {
                maxConcurrency: p.maxConcurrency,
                runtimes: p.runtimes,
                models: p.hasModel ? [{ id: MODEL, name: "m", parameters: 1, contextSize: 1 }] : [],
                region: p.region,
                pricePerUnit: p.price,
              },
            ),
          );
          const queued = js.map((j, i) =>
            job(`j${i}`, `c${j.consumer}`, {
              spec:
                j.runtime === "llm"
                  ? job("x").spec
                  : {
                      runtime: "wasm",
                      module: "cc".repeat(32),
                      input: { data: "" },
                      limits: { timeoutMs: 10, maxMemoryMb: 1 },
                    },
              constraints: {
                ...(j.region ? { regions: [j.region] } : {}),
                ...(j.maxPrice !== null ? { maxPricePerUnit: j.maxPrice } : {}),
                ...(j.minReputation !== null ? { minReputation: j.minReputation } : {}),
              },
              triedProviders: j.tried.map((t) => `p${t}`),
            }),
          );
          const lastServed = served === null ? undefined : new Map([[`c${served}`, 1]]);
          const assignments = schedule({ queued, providers, lastServed });

          const jobIds = assignments.map((a) => a.jobId);
          expect(new Set(jobIds).size).toBe(jobIds.length);
          const perProvider = new Map<string, number>();
          for (const a of assignments) {
            const p = providers.find((x) => x.id === a.providerId);
            const j = queued.find((x) => x.id === a.jobId);
            if (!p || !j) throw new Error(`assignment ${a.jobId} -> ${a.providerId} names an unknown job or provider`);
            expect(mismatch(j, p, 0)).toBeNull();
            expect(a.pricePerUnit).toBe(p.capabilities.pricePerUnit);
            perProvider.set(p.id, (perProvider.get(p.id) ?? 0) + 1);
          }
          for (const p of providers)
            expect(perProvider.get(p.id) ?? 0).toBeLessThanOrEqual(
              Math.max(0, p.capabilities.maxConcurrency - p.running),
            );
          // work-conserving: a job left over has no provider with room left that could take it
          const running = new Map(providers.map((p) => [p.id, p.running + (perProvider.get(p.id) ?? 0)]));
          for (const j of queued.filter((x) => !jobIds.includes(x.id)))
            for (const p of providers) expect(mismatch(j, p, running.get(p.id))).not.toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("schedule at scale", () => {
  it("handles a candidate pool larger than a call's argument limit", () => {
    const providers = Array.from({ length: 150_000 }, (_, i) => provider(`p${i}`, {}, { pricePerUnit: 1 + (i % 97) }));
    const a = schedule({ queued: [job("j")], providers });
    expect(a).toHaveLength(1);
    expect(a[0]?.pricePerUnit).toBe(1);
  });
});

describe("schedule and the stake behind a provider's jobs", () => {
  const K = 40n;
  const stake = 1_000n;
  /** a provider whose stake, less k × the escrow of its jobs in flight, backs `cap` more (policy's maxJobCost) */
  const staked = (id: string, cap: bigint, maxConcurrency = 4) => provider(id, { maxJobCost: cap }, { maxConcurrency });
  // a job's escrow must also cover the node's most billable work (mismatch "escrow"), beside the
  // point here: 1 fuel bills 1 SU, 10 nc at the nodes' price
  const WASM = {
    runtime: "wasm",
    module: "cc".repeat(32),
    input: { data: "" },
    limits: { timeoutMs: 10, maxMemoryMb: 1, maxFuel: 1 },
  };
  const wasm = (id: string, consumerId: string, escrow?: bigint) =>
    job(id, consumerId, { spec: WASM as QueuedJob["spec"], ...(escrow === undefined ? {} : { escrow }) });
  const costing = (id: string, escrow: bigint) => wasm(id, id, escrow);

  it("leases no more jobs at once than one stake can slash the full multiple of", () => {
    // stake 1000 backs jobs of up to 25 each; four of them at once would all be cheated on for one
    // stake: the first slash took all 1000 and the other three took nothing, nor refunded anyone
    const queued = ["a", "b", "c", "d"].map((id) => costing(id, stake / K));
    const a = schedule({ queued, providers: [staked("p", stake / K)] });
    expect(a.map((x) => x.jobId)).toEqual(["a"]);
    // two jobs of 10 fit in 25, a third does not
    const small = ["a", "b", "c"].map((id) => costing(id, 10n));
    expect(schedule({ queued: small, providers: [staked("p", stake / K)] }).map((x) => x.jobId)).toEqual(["a", "b"]);
  });

  it("sends what one provider's stake no longer backs to another", () => {
    const queued = ["a", "b"].map((id) => costing(id, 25n));
    const a = assigned({ queued, providers: [staked("p1", 25n), staked("p2", 25n)] });
    expect(new Set(Object.values(a))).toEqual(new Set(["p1", "p2"]));
  });

  it("never assigns a provider jobs whose escrows sum past what its stake backs (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ cap: fc.option(fc.bigInt({ min: 0n, max: 100n })), slots: fc.integer({ min: 1, max: 6 }) }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.array(fc.record({ escrow: fc.option(fc.bigInt({ min: 0n, max: 60n })), consumer: fc.nat(3) }), {
          maxLength: 30,
        }),
        (ps, js) => {
          const providers = ps.map((p, i) =>
            provider(`p${i}`, p.cap === null ? {} : { maxJobCost: p.cap }, { maxConcurrency: p.slots }),
          );
          const queued = js.map((j, i) => wasm(`j${i}`, `c${j.consumer}`, j.escrow ?? undefined));
          const drawn = new Map<string, bigint>();
          for (const a of schedule({ queued, providers })) {
            const escrow = queued.find((j) => j.id === a.jobId)?.escrow ?? 0n;
            drawn.set(a.providerId, (drawn.get(a.providerId) ?? 0n) + escrow);
          }
          for (const p of providers)
            if (p.maxJobCost !== undefined) expect(drawn.get(p.id) ?? 0n).toBeLessThanOrEqual(p.maxJobCost);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("schedule and a provider's WASM memory budget", () => {
  const wasm = (id: string, maxMemoryMb: number): QueuedJob =>
    job(id, id, {
      spec: { runtime: "wasm", module: "cc".repeat(32), input: { data: "" }, limits: { timeoutMs: 10, maxMemoryMb } },
    });
  const budgeted = (id: string, freeMb: number, maxConcurrency = 8) =>
    provider(id, { wasmMemoryFreeMb: freeMb }, { maxConcurrency, wasmMemoryMb: 4096 });

  it("leases a round's WASM jobs to a node only while their limits fit in what its budget leaves", () => {
    // 8 slots, but 4096 MiB left: two 2 GiB jobs fit, a third would wait on the node for memory
    const queued = ["a", "b", "c"].map((id) => wasm(id, 2048));
    expect(schedule({ queued, providers: [budgeted("p", 4096)] }).map((x) => x.jobId)).toEqual(["a", "b"]);
    // the third goes to another node with room
    const a = assigned({ queued, providers: [budgeted("p", 4096), budgeted("q", 2048)] });
    expect(Object.values(a).sort()).toEqual(["p", "p", "q"]);
  });

  it("never assigns a node WASM jobs whose limits sum past its free budget (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ free: fc.integer({ min: 0, max: 8192 }), slots: fc.integer({ min: 1, max: 6 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 24 }),
        (ps, mbs) => {
          const providers = ps.map((p, i) => budgeted(`p${i}`, p.free, p.slots));
          const queued = mbs.map((mb, i) => wasm(`j${i}`, mb));
          const used = new Map<string, number>();
          for (const a of schedule({ queued, providers })) {
            const j = queued.find((q) => q.id === a.jobId);
            const mb = j?.spec.runtime === "wasm" ? j.spec.limits.maxMemoryMb : 0;
            used.set(a.providerId, (used.get(a.providerId) ?? 0) + mb);
          }
          for (const p of providers) expect(used.get(p.id) ?? 0).toBeLessThanOrEqual(p.wasmMemoryFreeMb as number);
        },
      ),
      { numRuns: 300 },
    );
  });
});
