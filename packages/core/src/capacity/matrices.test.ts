import { describe, expect, it } from "vitest";
import { matmul, matmulFlops, matVec, randomMatrix, seededRandom } from "./matrices.js";

describe("matmul", () => {
  it("multiplies a 2×2 case", () => {
    const a = Float64Array.from([1, 2, 3, 4]);
    const b = Float64Array.from([5, 6, 7, 8]);
    expect([...matmul(a, b, 2)]).toEqual([19, 22, 43, 50]);
  });

  it("agrees with a Freivalds check A·(B·x) = C·x on random matrices", () => {
    const n = 16;
    const a = randomMatrix(n, 1);
    const b = randomMatrix(n, 2);
    const x = Float64Array.from({ length: n }, seededRandom(3));
    const left = matVec(a, matVec(b, x, n), n);
    const right = matVec(matmul(a, b, n), x, n);
    for (let i = 0; i < n; i++) expect(left[i]).toBeCloseTo(right[i] as number, 9);
  });

  it("counts 2n³ flops", () => {
    expect(matmulFlops(128)).toBe(2 * 128 ** 3);
  });
});

describe("seeded matrices", () => {
  it("are the same for the same seed and differ across seeds", () => {
    expect(randomMatrix(8, 42)).toEqual(randomMatrix(8, 42));
    expect(randomMatrix(8, 42)).not.toEqual(randomMatrix(8, 43));
  });

  it("draw values in [-1, 1)", () => {
    for (const v of randomMatrix(32, 7)) {
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThan(1);
    }
  });

  it("come from a PRNG with a fixed sequence", () => {
    const next = seededRandom(1);
    const first = [next(), next(), next()];
    const again = seededRandom(1);
    expect([again(), again(), again()]).toEqual(first);
  });
});
