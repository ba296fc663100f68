// Seeded random matrices and their product, as small pure functions. A node measures its
// throughput with them and answers proof-of-capacity challenges; the gateway regenerates the
// challenge's matrices from the seeds and checks the claimed product in O(n²) (freivalds.ts).
// Matrices are square, row-major Float64Arrays of n×n.

/** mulberry32: a tiny 32-bit PRNG, identical on every platform; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An n×n matrix of uniform values in [-1, 1) drawn from `seed`. */
export function randomMatrix(n: number, seed: number): Float64Array {
  const next = seededRandom(seed);
  const m = new Float64Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = next() * 2 - 1;
  return m;
}

/** C = A·B. Loops in i-k-j order so the inner loop walks rows of B and C contiguously. */
export function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k] as number;
      const bRow = k * n;
      for (let j = 0; j < n; j++) c[row + j] = (c[row + j] as number) + aik * (b[bRow + j] as number);
    }
  }
  return c;
}

/** y = A·x, the O(n²) step of a Freivalds check. */
export function matVec(a: Float64Array, x: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += (a[i * n + j] as number) * (x[j] as number);
    y[i] = sum;
  }
  return y;
}

/** Floating-point operations of an n×n by n×n product: n³ multiplies and n³ adds. */
export function matmulFlops(n: number): number {
  return 2 * n * n * n;
}
