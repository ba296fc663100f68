// The verification tick never overlaps itself: a run that takes longer than the period delays the
// next one. Fake timers; the runs are promises the test resolves.
import { afterEach, describe, expect, it, vi } from "vitest";
import { tickEvery } from "./ticker.js";

afterEach(() => vi.useRealTimers());

describe("tickEvery", () => {
  it("starts no run while the previous one is still going, and goes on after it ends or fails", async () => {
    vi.useFakeTimers();
    let running = 0;
    let most = 0;
    const ends: Array<(ok: boolean) => void> = [];
    const errors: unknown[] = [];
    const ticker = tickEvery(
      500,
      () =>
        new Promise<void>((resolve, reject) => {
          running++;
          most = Math.max(most, running);
          ends.push((ok) => {
            running--;
            if (ok) resolve();
            else reject(new Error("store busy"));
          });
        }),
      (err) => errors.push(err),
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(ends).toHaveLength(1);
    // the first run is slow: ten periods pass and no second run starts
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ends).toHaveLength(1);
    ends[0]?.(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(ends).toHaveLength(2);
    expect(errors).toHaveLength(1);
    ends[1]?.(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(ends).toHaveLength(3);
    expect(most).toBe(1);
    ticker.stop();
    ends[2]?.(true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ends).toHaveLength(3);
  });
});
