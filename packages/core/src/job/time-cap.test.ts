import type { JobSpec } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { llmStandardUnits } from "../metering/units.js";
import { FALLBACK_CAP_MS, LEASE_SETUP_MS, LLM_SLOWDOWN, leaseTimeCapMs } from "./time-cap.js";

const MODEL = "ab".repeat(32);
const wasm = (timeoutMs: number): JobSpec => ({
  runtime: "wasm",
  module: "cd".repeat(32),
  input: { data: "" },
  limits: { timeoutMs, maxMemoryMb: 16 },
});
const llm = (prompt: string, maxOutputTokens: number): JobSpec => ({
  runtime: "llm",
  model: MODEL,
  input: { prompt },
  params: { temperature: 0 },
  limits: { maxOutputTokens },
});
const node = (over: Partial<Parameters<typeof leaseTimeCapMs>[1]> = {}) => ({
  throughput: 1_000,
  maxConcurrency: 1,
  models: [{ id: MODEL, name: "m", parameters: 1_000_000, contextSize: 2048 }],
  ...over,
});

describe("lease time caps", () => {
  it("gives a WASM lease set-up time and twice the job's own timeout, more when it may queue behind others", () => {
    expect(leaseTimeCapMs(wasm(10_000), node())).toBe(LEASE_SETUP_MS + 20_000);
    // 4 prefetched leases behind 2 slots: it may wait two rounds of running jobs first
    expect(leaseTimeCapMs(wasm(10_000), node({ maxConcurrency: 2, prefetch: 4 }))).toBe(LEASE_SETUP_MS + 60_000);
  });

  it("gives an LLM lease its most billable work at a fraction of the node's claimed speed, per slot it shares", () => {
    const spec = llm("hi", 100);
    const one = leaseTimeCapMs(spec, node());
    expect(one).toBeGreaterThan(LEASE_SETUP_MS + (LLM_SLOWDOWN * 1000 * llmStandardUnits(1_000_000, 100)) / 1_000);
    // a node claiming twice the speed gets about half the run time; one sharing its cores 4 ways, four times
    expect(leaseTimeCapMs(spec, node({ throughput: 2_000 })) - LEASE_SETUP_MS).toBeCloseTo(
      (one - LEASE_SETUP_MS) / 2,
      -1,
    );
    expect(leaseTimeCapMs(spec, node({ maxConcurrency: 4 })) - LEASE_SETUP_MS).toBeCloseTo(
      (one - LEASE_SETUP_MS) * 4,
      -1,
    );
    // a longer job gets longer
    expect(leaseTimeCapMs(llm("hi", 1_000), node())).toBeGreaterThan(one);
  });

  it("falls back to an hour when the node declared no parameter count or throughput for the model", () => {
    expect(leaseTimeCapMs(llm("hi", 10), node({ models: [] }))).toBe(FALLBACK_CAP_MS);
    expect(leaseTimeCapMs(llm("hi", 10), node({ throughput: 0 }))).toBe(FALLBACK_CAP_MS);
  });
});
