import { describe, expect, it } from "vitest";
import { measureThroughput } from "./throughput.js";

describe("measureThroughput", () => {
  it("returns a positive, finite rate in standard units per second", () => {
    const rate = measureThroughput();
    expect(rate).toBeGreaterThan(0);
    expect(Number.isFinite(rate)).toBe(true);
  });

  it("honours a smaller matrix and budget", () => {
    expect(measureThroughput({ size: 16, budgetMs: 5 })).toBeGreaterThan(0);
  });
});
