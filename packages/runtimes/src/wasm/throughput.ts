// A node's CPU throughput in standard units per second, measured by multiplying seeded random
// matrices in plain JS. Providers advertise it in their capabilities; WASM jobs are not billed
// by it (they are metered in fuel, see fuel.ts).
import { FLOPS_PER_STANDARD_UNIT, matmul, matmulFlops, randomMatrix } from "@tessera/core";

export interface ThroughputOptions {
  /** matrix size n (n×n); default 128 */
  size?: number;
  /** stop repeating once this much time has been measured; default 150 ms */
  budgetMs?: number;
  /** at most this many timed products; default 50 */
  maxReps?: number;
}

/** Standard units (1e6 FLOPs) per second this process sustains; takes about `budgetMs`. */
export function measureThroughput(options: ThroughputOptions = {}): number {
  const n = options.size ?? 128;
  const budgetMs = options.budgetMs ?? 150;
  const maxReps = options.maxReps ?? 50;
  const a = randomMatrix(n, 1);
  const b = randomMatrix(n, 2);
  // One untimed product lets the JIT optimise the loop before it is measured.
  let sink = matmul(a, b, n)[0] as number;
  let reps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (reps < 1 || (elapsed < budgetMs && reps < maxReps)) {
    sink += matmul(a, b, n)[reps % (n * n)] as number;
    reps++;
    elapsed = performance.now() - start;
  }
  // Using the result keeps the products from being optimised away.
  if (Number.isNaN(sink)) throw new Error("matmul benchmark produced NaN");
  const seconds = Math.max(elapsed, 1e-3) / 1000;
  return (reps * matmulFlops(n)) / FLOPS_PER_STANDARD_UNIT / seconds;
}
