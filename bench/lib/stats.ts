// Latency statistics for the benchmarks: percentiles by the nearest-rank rule on sorted
// samples, so p99 of 1,000 samples is the 990th value and never an interpolation.

export interface Summary {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return {
    n: s.length,
    mean,
    min: s[0] ?? Number.NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
  };
}

/** Rounds every number in a summary for the results file (ms to 3 decimals: microseconds). */
export function rounded(s: Summary, digits = 3): Summary {
  const r = (x: number) => Number(x.toFixed(digits));
  return { n: s.n, mean: r(s.mean), min: r(s.min), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), max: r(s.max) };
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}
