import { describe, expect, it } from "vitest";
import { wasmUnits } from "./units.js";

describe("wasmUnits", () => {
  it("charges ceil(fuel / 10⁷) standard units and no tokens", () => {
    expect(wasmUnits(2_500_000_000)).toEqual({ inputTokens: 0, outputTokens: 0, standardUnits: 250 });
    expect(wasmUnits(10_000_001).standardUnits).toBe(2);
    expect(wasmUnits(20_000_000).standardUnits).toBe(2);
  });

  it("charges at least one standard unit", () => {
    expect(wasmUnits(0).standardUnits).toBe(1);
    expect(wasmUnits(1).standardUnits).toBe(1);
  });
});
