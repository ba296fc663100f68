// A verifier's WASM audits share its WASM memory budget with the jobs leased to it: what a new WASM
// lease may have is what both leave, and audits waiting for more than the budget leave nothing,
// yet hold back no job that needs none of it (an LLM job).
import { describe, expect, it } from "vitest";
import { mismatch, wasmMemoryFreeMb } from "./match.js";
import type { ProviderView } from "./types.js";

const MODEL = "aa".repeat(32);

const node = (freeMb: number): ProviderView => ({
  id: "v",
  capabilities: {
    runtimes: ["llm", "wasm"],
    models: [{ id: MODEL, name: "m", parameters: 1_000_000, contextSize: 2048 }],
    pricePerUnit: 10,
    region: "eu-west",
    maxConcurrency: 4,
    throughput: 100,
    wasmMemoryMb: 100,
    verifier: true,
  },
  running: 0,
  reputation: 0.8,
  latencyMs: null,
  draining: false,
  online: true,
  wasmMemoryFreeMb: freeMb,
});

const wasmJob = (maxMemoryMb: number) => ({
  spec: {
    runtime: "wasm" as const,
    module: "cc".repeat(32),
    input: { data: "" },
    limits: { timeoutMs: 10, maxMemoryMb },
  },
  constraints: {},
});

const llmJob = {
  spec: {
    runtime: "llm" as const,
    model: MODEL,
    input: { prompt: "hi" },
    params: { temperature: 0 },
    limits: { maxOutputTokens: 8 },
  },
  constraints: {},
};

describe("wasmMemoryFreeMb", () => {
  it("counts the memory of the node's audits used, beside that of its leased WASM jobs", () => {
    expect(wasmMemoryFreeMb(100, 32, 0)).toBe(68);
    expect(wasmMemoryFreeMb(100, 32, 64)).toBe(4);
    expect(mismatch(wasmJob(16), node(wasmMemoryFreeMb(100, 32, 64)))).toBe("memory");
    expect(mismatch(wasmJob(4), node(wasmMemoryFreeMb(100, 32, 64)))).toBeNull();
  });

  it("is never below 0: audits waiting for more than the budget hold back WASM jobs, not LLM ones", () => {
    const free = wasmMemoryFreeMb(100, 0, 128);
    expect(free).toBe(0);
    expect(mismatch(wasmJob(1), node(free))).toBe("memory");
    expect(mismatch(llmJob, node(free))).toBeNull();
  });
});
