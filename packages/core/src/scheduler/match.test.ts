import { describe, expect, it } from "vitest";
import { maxCost } from "../metering/cost.js";
import { fuelLimit, fuelStandardUnits } from "../metering/units.js";
import { anyCouldServe, escrowShortfall, mismatch } from "./match.js";
import type { ProviderView } from "./types.js";

const MODEL = "aa".repeat(32);
const OTHER_MODEL = "bb".repeat(32);

function provider(
  overrides: Partial<ProviderView> = {},
  caps: Partial<ProviderView["capabilities"]> = {},
): ProviderView {
  return {
    id: "p1",
    capabilities: {
      runtimes: ["llm", "wasm"],
      models: [{ id: MODEL, name: "m", parameters: 1_000_000, contextSize: 2048 }],
      pricePerUnit: 10,
      region: "eu-west",
      maxConcurrency: 2,
      throughput: 100,
      ...caps,
    },
    running: 0,
    reputation: 0.8,
    latencyMs: null,
    draining: false,
    online: true,
    ...overrides,
  };
}

const llmJob = (constraints = {}, model = MODEL) => ({
  spec: {
    runtime: "llm" as const,
    model,
    input: { prompt: "hi" },
    params: { temperature: 0 },
    limits: { maxOutputTokens: 8 },
  },
  constraints,
});
const wasmJob = {
  spec: {
    runtime: "wasm" as const,
    module: "cc".repeat(32),
    input: { data: "" },
    limits: { timeoutMs: 10, maxMemoryMb: 1 },
  },
  constraints: {},
};

describe("mismatch", () => {
  it("accepts a provider that meets every constraint", () => {
    expect(mismatch(llmJob({ regions: ["eu-west"], maxPricePerUnit: 10, minReputation: 0.8 }), provider())).toBeNull();
    expect(mismatch(wasmJob, provider({}, { runtimes: ["wasm"], models: [] }))).toBeNull();
  });

  it("names the first constraint a provider fails", () => {
    expect(mismatch(llmJob(), provider({ online: false }))).toBe("offline");
    expect(mismatch(llmJob(), provider({ draining: true }))).toBe("draining");
    expect(mismatch(llmJob(), provider({}, { runtimes: ["wasm"] }))).toBe("runtime");
    expect(mismatch(wasmJob, provider({}, { runtimes: ["llm"] }))).toBe("runtime");
    expect(mismatch(llmJob({}, OTHER_MODEL), provider())).toBe("model");
    expect(mismatch(llmJob({ regions: ["us-east", "ap-south"] }), provider())).toBe("region");
    expect(mismatch(llmJob({ maxPricePerUnit: 9 }), provider())).toBe("price");
    expect(mismatch(llmJob({ minReputation: 0.81 }), provider())).toBe("reputation");
    expect(mismatch(llmJob(), provider({ running: 2 }))).toBe("full");
    expect(mismatch(llmJob(), provider({ running: 0 }), 2)).toBe("full");
  });

  it("passes over a node that could bill more than an LLM job escrowed, at its price and model size", () => {
    const job = llmJob();
    const escrow = maxCost(job.spec, { pricePerUnit: 10, parameters: 1_000_000 });
    expect(mismatch({ ...job, escrow }, provider())).toBeNull();
    expect(mismatch({ ...job, escrow }, provider({}, { pricePerUnit: 11 }))).toBe("escrow");
    const bigger = [{ id: MODEL, name: "m", parameters: 2_000_000, contextSize: 2048 }];
    expect(mismatch({ ...job, escrow }, provider({}, { models: bigger }))).toBe("escrow");
    // a batch job is held to the node's batch price
    const batch = {
      ...job,
      jobClass: "batch" as const,
      escrow: maxCost(job.spec, { pricePerUnit: 5, parameters: 1_000_000 }),
    };
    expect(mismatch(batch, provider({}, { batchPricePerUnit: 5 }))).toBeNull();
    expect(mismatch(batch, provider())).toBe("escrow");
    // a wasm job's most billable work is its fuel limit on any node: only a dearer one outgrows it,
    // however fast it claims to be
    const sized = { ...wasmJob, escrow: maxCost(wasmJob.spec, { pricePerUnit: 10 }) };
    const wasmNode = (pricePerUnit: number) =>
      provider({}, { runtimes: ["wasm"], models: [], throughput: 1_000_000, pricePerUnit });
    expect(mismatch(sized, wasmNode(10))).toBeNull();
    expect(mismatch(sized, wasmNode(11))).toBe("escrow");
  });

  it("asks whether anyone could ever serve a job, however busy", () => {
    expect(anyCouldServe(llmJob(), [provider({ running: 2 })])).toBe(true);
    expect(anyCouldServe(llmJob({}, OTHER_MODEL), [provider(), provider({ id: "p2" })])).toBe(false);
    expect(anyCouldServe(llmJob(), [])).toBe(false);
  });
});

describe("escrowShortfall", () => {
  const at = (price: number) => maxCost(llmJob().spec, { pricePerUnit: price, parameters: 1_000_000 });
  const job = (escrow: bigint, constraints = {}) => ({ ...llmJob(constraints), escrow });

  it("names what the cheapest node needs when every node that could run the job bills past its escrow", () => {
    const dear = provider({ id: "dear" }, { pricePerUnit: 30 });
    const dearer = provider({ id: "dearer" }, { pricePerUnit: 50 });
    expect(escrowShortfall(job(at(10)), [dearer, dear])).toBe(at(30));
  });

  it("is undefined when a node fits, and when none could run the job anyway", () => {
    expect(escrowShortfall(job(at(10)), [provider({ id: "dear" }, { pricePerUnit: 30 }), provider()])).toBeUndefined();
    expect(escrowShortfall(job(at(10)), [provider({}, { pricePerUnit: 30, runtimes: ["wasm"] })])).toBeUndefined();
    // the consumer's own constraints still rule: a region it excludes does not count
    expect(
      escrowShortfall(job(at(10), { regions: ["eu-west"] }), [provider({}, { pricePerUnit: 30, region: "us" })]),
    ).toBeUndefined();
    expect(escrowShortfall(job(at(10)), [])).toBeUndefined();
  });

  it("holds a wasm job to its fuel limit's bill at the prices online, however fast a node claims to be", () => {
    // wasmJob: no maxFuel, so its time cap at 10⁶ fuel per ms
    const su = fuelStandardUnits(fuelLimit(wasmJob.spec.limits));
    const at = (price: number) => BigInt(su * price);
    const node = (pricePerUnit: number) =>
      provider({}, { runtimes: ["wasm"], models: [], throughput: 1e9, pricePerUnit });
    expect(escrowShortfall({ ...wasmJob, escrow: at(10) }, [node(10)])).toBeUndefined();
    expect(escrowShortfall({ ...wasmJob, escrow: at(10) }, [node(30), node(20)])).toBe(at(20));
  });
});

describe("a job dearer than the provider's stake backs", () => {
  it("is not leased to it: the slash would be capped below the multiple", () => {
    const job = { ...llmJob(), escrow: 1_000n };
    expect(mismatch(job, provider({ maxJobCost: 999n }))).toBe("stake");
    expect(mismatch(job, provider({ maxJobCost: 1_000n }))).toBeNull();
    expect(mismatch(job, provider())).toBeNull();
  });
});

describe("a WASM job's memory limit against the node's WASM memory budget", () => {
  const wasmJob = (maxMemoryMb: number) => ({
    spec: {
      runtime: "wasm" as const,
      module: "cc".repeat(32),
      input: { data: "" },
      limits: { timeoutMs: 1_000, maxMemoryMb },
    },
    constraints: {},
  });
  const node = provider({ wasmMemoryFreeMb: 100 }, { wasmMemoryMb: 300 });

  it("is leased only where what the node's running WASM jobs leave holds it", () => {
    expect(mismatch(wasmJob(100), node)).toBeNull();
    expect(mismatch(wasmJob(101), node)).toBe("memory");
    // a node that advertises no budget is not held to one, and LLM jobs are not measured by it
    expect(mismatch(wasmJob(4096), provider())).toBeNull();
    expect(mismatch(llmJob(), provider({ wasmMemoryFreeMb: 0 }, { wasmMemoryMb: 300 }))).toBeNull();
  });

  it("could ever be served by a node whose whole budget holds it, however much is in use now", () => {
    expect(anyCouldServe(wasmJob(300), [node])).toBe(true);
    expect(anyCouldServe(wasmJob(301), [node])).toBe(false);
  });
});
