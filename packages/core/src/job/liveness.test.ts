import { describe, expect, it } from "vitest";
import { isOwnStall, MIN_STALL_MS, silentAfterMs } from "./liveness.js";

describe("isOwnStall", () => {
  it("takes a timer later than a heartbeat period for a stall, never one later by less than MIN_STALL_MS", () => {
    expect(isOwnStall(2_001, 2_000)).toBe(true);
    expect(isOwnStall(2_000, 2_000)).toBe(false);
    expect(isOwnStall(MIN_STALL_MS, 100)).toBe(false);
    expect(isOwnStall(MIN_STALL_MS + 1, 100)).toBe(true);
  });
});

describe("silentAfterMs", () => {
  it("is two heartbeat periods, and at least 2 s", () => {
    expect(silentAfterMs(2_000)).toBe(4_000);
    expect(silentAfterMs(5_000)).toBe(10_000);
    expect(silentAfterMs(500)).toBe(2_000);
  });
});
