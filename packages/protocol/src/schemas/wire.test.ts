import { describe, expect, it } from "vitest";
import { JobOutputSchema, WasmOutputSchema } from "./job.js";
import { heartbeatLimit, MAX_CONCURRENCY, MAX_PREFETCH, ProviderMessageSchema } from "./wire.js";

const heartbeat = (n: number) => ({
  type: "heartbeat",
  running: Array.from({ length: n }, (_, i) => ({ jobId: `job_${i}`, attempt: 1 })),
});

describe("heartbeat bounds", () => {
  it("holds a node to about what it can run: its slots and prefetch, twice, plus a little", () => {
    expect(heartbeatLimit({ maxConcurrency: 2 })).toBe(20);
    expect(heartbeatLimit({ maxConcurrency: 8, prefetch: 2 })).toBe(36);
  });

  it("lets the largest node list every job it may hold", () => {
    // it held 1088 (1024 slots + 64 prefetched) against a schema bound of 1024: its heartbeats
    // were refused and its leases lapsed
    const largest = heartbeatLimit({ maxConcurrency: MAX_CONCURRENCY, prefetch: MAX_PREFETCH });
    expect(ProviderMessageSchema.safeParse(heartbeat(MAX_CONCURRENCY + MAX_PREFETCH)).success).toBe(true);
    expect(ProviderMessageSchema.safeParse(heartbeat(largest)).success).toBe(true);
    expect(ProviderMessageSchema.safeParse(heartbeat(largest + 1)).success).toBe(false);
  });
});

describe("WASM output", () => {
  it("is bytes, or out of fuel or a trap with none", () => {
    expect(JobOutputSchema.safeParse({ data: "AQID" }).success).toBe(true);
    expect(JobOutputSchema.safeParse({ data: "", outOfFuel: true }).success).toBe(true);
    expect(JobOutputSchema.safeParse({ data: "", trap: "wasm trap: unreachable" }).success).toBe(true);
    // stopped and an output both: a node would be billing a stop for a finished job
    for (const both of [
      { data: "AQID", outOfFuel: true },
      { data: "AQID", trap: "wasm trap: unreachable" },
    ]) {
      const parsed = WasmOutputSchema.safeParse(both);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe("an output that ran out of fuel or trapped has no data");
    }
    expect(WasmOutputSchema.safeParse({ data: "", outOfFuel: true, trap: "x" }).error?.issues[0]?.message).toBe(
      "an output ran out of fuel or trapped, not both",
    );
    expect(JobOutputSchema.safeParse({ data: "", outOfFuel: false }).success).toBe(false);
    expect(JobOutputSchema.safeParse({ data: "", trap: "" }).success).toBe(false);
  });
});
