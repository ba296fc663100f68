import { describe, expect, it } from "vitest";
import { wasmUnits } from "./units.js";

describe("wasmUnits", () => {
  it("charges ceil(cpuMs × throughput / 1000) standard units and no tokens", () => {
    expect(wasmUnits(250, 1000)).toEqual({ inputTokens: 0, outputTokens: 0, standardUnits: 250 });
    expect(wasmUnits(1.5, 1000).standardUnits).toBe(2);
    expect(wasmUnits(10.01, 100).standardUnits).toBe(2);
  });

  it("charges at least one unit for a job that took no measurable time", () => {
    expect(wasmUnits(0, 5000).standardUnits).toBe(1);
    expect(wasmUnits(0.0001, 1).standardUnits).toBe(1);
  });
});
