import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF, HOLDING_BACKOFF_MAX_MS, nextAttempt, STABLE_SESSION_MS } from "./backoff.js";

describe("backoffDelay", () => {
  it("doubles its ceiling from the initial delay up to the maximum", () => {
    const top = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
    expect(top(1000)).toBe(10_000);
  });

  it("keeps its ceiling at a second while the node holds work, and under a smaller maximum", () => {
    const top = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 1, true);
    expect([0, 1, 2, 3, 4, 10].map(top)).toEqual([200, 400, 800, HOLDING_BACKOFF_MAX_MS, 1_000, 1_000]);
    expect(backoffDelay(9, { initialMs: 10, maxMs: 300 }, () => 1, true)).toBe(300);
  });

  it("jitters within the upper half of the ceiling", () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(100);
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 0)).toBe(5_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, DEFAULT_BACKOFF);
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1600);
    }
  });
});

describe("nextAttempt", () => {
  it("keeps climbing after a session that dropped before it was stable", () => {
    expect(nextAttempt(3, 150)).toBe(3);
    expect(nextAttempt(3, STABLE_SESSION_MS - 1)).toBe(3);
  });

  it("keeps climbing when the dial never became a session", () => {
    expect(nextAttempt(5, undefined)).toBe(5);
  });

  it("starts over after a session that stayed up", () => {
    expect(nextAttempt(7, STABLE_SESSION_MS)).toBe(0);
    expect(nextAttempt(7, 50, 50)).toBe(0);
  });
});
