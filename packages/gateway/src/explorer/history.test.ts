import { describe, expect, it } from "vitest";
import { denseHistory } from "./history.js";

describe("a provider's history over its window", () => {
  it("has a bucket for every period from the window's start to now, zeros where the store had none", () => {
    const active = [
      { at: 120_000, completed: 2, failed: 1, earned: 30n },
      { at: 300_000, completed: 1, failed: 0, earned: 9n },
    ];
    const dense = denseHistory(active, 61_000, 330_000, 60_000);
    expect(dense.map((b) => b.at)).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
    expect(dense[1]).toBe(active[0]);
    expect(dense[2]).toEqual({ at: 180_000, completed: 0, failed: 0, earned: 0n });
    expect(dense.reduce((s, b) => s + b.earned, 0n)).toBe(39n);
  });

  it("covers a 24-hour window in 15-minute buckets with no activity at all", () => {
    const now = Date.UTC(2026, 11, 7, 13, 7);
    const dense = denseHistory([], now - 24 * 3_600_000, now, 900_000);
    expect(dense).toHaveLength(97);
    expect(dense.every((b) => b.completed === 0 && b.earned === 0n)).toBe(true);
  });
});
