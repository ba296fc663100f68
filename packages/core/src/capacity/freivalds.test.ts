import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capacityDeadlineMs, capacityShown, freivaldsCheck, productUnits, provenThroughput } from "./freivalds.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
function matrix(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n * n }, () => r() * 2 - 1);
}
function product(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++)
        c[i * n + j] = (c[i * n + j] as number) + (a[i * n + k] as number) * (b[k * n + j] as number);
  return c;
}

describe("Freivalds check", () => {
  const n = 48;
  const a = matrix(n, 1);
  const b = matrix(n, 2);
  const c = product(a, b, n);

  it("accepts the right product, also summed in another order", () => {
    expect(freivaldsCheck(a, b, c, n, rng(9))).toBe(true);
    const other = new Float64Array(n * n); // j-k order: other rounding, same product
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = n - 1; k >= 0; k--) s += (a[i * n + k] as number) * (b[k * n + j] as number);
        other[i * n + j] = s;
      }
    expect(freivaldsCheck(a, b, other, n, rng(10))).toBe(true);
  });

  it("rejects a wrong product: one entry off, a zero matrix, the wrong seeds, a short answer, NaN", () => {
    const oneOff = c.slice();
    oneOff[7 * n + 3] = (oneOff[7 * n + 3] as number) + 0.01;
    expect(freivaldsCheck(a, b, oneOff, n, rng(11))).toBe(false);
    expect(freivaldsCheck(a, b, new Float64Array(n * n), n, rng(12))).toBe(false);
    expect(freivaldsCheck(a, b, product(matrix(n, 3), b, n), n, rng(13))).toBe(false);
    expect(freivaldsCheck(a, b, c.slice(0, n), n, rng(14))).toBe(false);
    const nan = c.slice();
    nan[0] = Number.NaN;
    expect(freivaldsCheck(a, b, nan, n, rng(15))).toBe(false);
  });

  it("catches a single wrong entry in almost every draw of vectors", () => {
    const oneOff = c.slice();
    oneOff[5] = (oneOff[5] as number) - 1;
    let caught = 0;
    for (let s = 0; s < 200; s++) if (!freivaldsCheck(a, b, oneOff, n, rng(100 + s), 8)) caught++;
    expect(caught).toBe(200); // a ±1 vector always exposes a single-entry error
  });

  it("turns a timed proof into standard units per second and tells whether the claim was shown", () => {
    expect(productUnits(100)).toBe(2);
    expect(provenThroughput(100, 500)).toBe(4);
    // n=100 is 2 units; claimed 4/s → 500 ms; slack 4 → 2,000 ms, plus a 100 ms allowance
    expect(capacityShown(2100, 100, 4, 4, 100)).toBe(true);
    expect(capacityShown(2101, 100, 4, 4, 100)).toBe(false);
    // a fast claim is judged mostly by the allowance: a small product cannot be timed over a socket
    // (n=100 at 100/s is 20 ms; slack 8 → 160 ms, plus 100)
    expect(capacityShown(260, 100, 100, 8, 100)).toBe(true);
    expect(capacityShown(260, 100, 100, 8, 0)).toBe(false);
    // but the allowance is at most slack × the claim's compute time: a claim cannot outrun the
    // proof's round trip by more than 2·slack, however quickly the answer came
    expect(capacityShown(32, 100, 1000, 8, 100)).toBe(true);
    expect(capacityShown(33, 100, 1000, 8, 100)).toBe(false);
    expect(capacityShown(60, 100, 1_000_000, 8, 150)).toBe(false);
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 2048 }), fc.integer({ min: 1, max: 100_000 }), (n, elapsed) => {
        // whatever the claim, one that passes is at most 2·slack × what the round trip proved
        for (const claimed of [1, 10, 1e3, 1e6, 1e9])
          if (capacityShown(elapsed, n, claimed, 8, 150))
            expect(claimed).toBeLessThanOrEqual(16 * provenThroughput(n, elapsed) * (1 + 1e-9));
      }),
    );
    expect(capacityDeadlineMs(100, 4, 10, 2000)).toBe(5000);
    expect(capacityDeadlineMs(100, 1000, 10, 2000)).toBe(2000);
  });
});
