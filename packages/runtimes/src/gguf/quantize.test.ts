// The quantizers against a reference decoder written from ggml's block layouts: every weight comes
// back within half a quantization step, codes sit where llama.cpp reads them, and sizes are ggml's.
import { getFloat16 } from "@petamoriken/float16";
import { describe, expect, test } from "vitest";
import { Prng } from "./prng.js";
import { encodedSize, encodeWeights } from "./quantize.js";

function decode(type: "q8_0" | "q4_0", bytes: Uint8Array, count: number): { values: Float32Array; scales: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = type === "q8_0" ? 34 : 18;
  const values = new Float32Array(count);
  const scales: number[] = [];
  for (let b = 0; b < count / 32; b++) {
    const at = b * size;
    const d = getFloat16(view, at, true);
    scales.push(d);
    for (let j = 0; j < 32; j++) {
      const q =
        type === "q8_0" ? view.getInt8(at + 2 + j) : ((view.getUint8(at + 2 + (j % 16)) >> (j < 16 ? 0 : 4)) & 0xf) - 8;
      values[b * 32 + j] = q * d;
    }
  }
  return { values, scales };
}

const random = (n: number, seed: number) => {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n }, () => rng.nextNormal() * 0.3);
};

describe("block quantization", () => {
  // Q4_0's codes span −8…7 steps: the extreme sits at −8, and a weight of the other sign near the
  // extreme's size clamps at 7, up to one whole step off (ggml's Q4_0 does the same)
  test.each(["q8_0", "q4_0"] as const)("%s: every weight decodes within its rounding of itself", (type) => {
    const x = random(32 * 64, 7);
    const bytes = encodeWeights(type, x);
    expect(bytes.length).toBe(encodedSize(type, x.length));
    const { values, scales } = decode(type, bytes, x.length);
    for (let i = 0; i < x.length; i++) {
      const step = Math.abs(scales[Math.floor(i / 32)] as number);
      // the rounding, plus what storing the scale as f16 moves the largest code
      const slack = type === "q8_0" ? 0.5 * step + 127 * step * 2 ** -11 : step + 8 * step * 2 ** -11;
      expect(Math.abs((values[i] as number) - (x[i] as number))).toBeLessThanOrEqual(slack + 1e-9);
    }
  });

  test("q8_0: the scale is max|x| / 127 and the largest weight takes code ±127", () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => j - 16); // −16 … 15
    const bytes = encodeWeights("q8_0", x);
    expect(getFloat16(new DataView(bytes.buffer), 0, true)).toBeCloseTo(16 / 127, 4);
    expect(new Int8Array(bytes.buffer, 2, 32)[0]).toBe(-127);
    expect(bytes.length).toBe(34);
  });

  test("q4_0: the signed extreme maps to code 0, and weight j + 16 sits in byte j's high nibble", () => {
    const x = new Float32Array(32);
    x[0] = 8; // the extreme: d = 8 / −8 = −1, so x / d + 8.5 truncates to code 0
    x[16] = -7; // −7 / −1 + 8.5 = 15.5 → code 15, in the high nibble of byte 0
    const bytes = encodeWeights("q4_0", x);
    expect(getFloat16(new DataView(bytes.buffer), 0, true)).toBe(-1);
    expect(bytes[2]).toBe(0x00 | (15 << 4));
    expect(bytes[3]).toBe(8 | (8 << 4)); // zeros are code 8
    expect(bytes.length).toBe(18);
  });

  test("sizes are ggml's, and a row that is not whole blocks is refused", () => {
    expect(encodedSize("f32", 10)).toBe(40);
    expect(encodedSize("q8_0", 64)).toBe(68);
    expect(encodedSize("q4_0", 64)).toBe(36);
    expect(() => encodedSize("q4_0", 33)).toThrow(/multiple of 32/);
  });
});
