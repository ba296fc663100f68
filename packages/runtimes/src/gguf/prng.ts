// Seeded random numbers that are bit-identical on every machine and JS engine: only 32-bit integer
// ops, exact float arithmetic and sqrt (correctly rounded by IEEE 754) — no Math.log/cos/random.

/** xoshiro128** seeded through splitmix32. */
export class Prng {
  private s: Uint32Array;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** uniform u32 */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0] as number,
      s1 = s[1] as number,
      s2 = s[2] as number,
      s3 = s[3] as number;
    const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s2 ^ s0;
    s[3] = s3 ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return r;
  }

  /** uniform in [0, 1) with 24 bits, exactly representable */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** uniform in [0, 1) with 53 bits, for sampling */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Approximately standard normal: the centred sum of four uniforms scaled to unit variance
   * (Irwin–Hall). Tails are bounded at ±3.46, which suits weight initialisation.
   */
  nextNormal(): number {
    const sum = this.nextFloat() + this.nextFloat() + this.nextFloat() + this.nextFloat();
    return (sum - 2) * SQRT3;
  }
}

const SQRT3 = Math.sqrt(3);

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
