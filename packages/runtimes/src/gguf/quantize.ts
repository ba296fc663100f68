// ggml's two simplest block quantizations, computed as llama.cpp's reference quantizers compute them
// (in float32 steps), so the tiny model can also be made the way real GGUF files are shipped (quantized) and the
// verifier's tolerances can be measured on quantized numerics, not only on F32.
//   Q8_0: blocks of 32 weights → f16 scale d = max|x| / 127, then 32 × int8 round(x / d)
//   Q4_0: blocks of 32 weights → f16 scale d = (the signed value of largest magnitude) / −8, then
//         16 bytes of 4-bit codes min(15, trunc(x / d + 8.5)): weight j in the low nibble of byte j,
//         weight j + 16 in its high nibble
import { setFloat16 } from "@petamoriken/float16";

export const WEIGHT_TYPES = ["f32", "q8_0", "q4_0"] as const;
export type WeightType = (typeof WEIGHT_TYPES)[number];

/** ggml_type numbers, as written in GGUF tensor infos. */
export const GGML_TYPE: Record<WeightType, number> = { f32: 0, q4_0: 2, q8_0: 8 };

/** `general.file_type` (llama_ftype) of a file whose matrices are all of this type. */
export const FILE_TYPE: Record<WeightType, number> = { f32: 0, q4_0: 2, q8_0: 7 };

const BLOCK = 32;
const BLOCK_BYTES: Record<Exclude<WeightType, "f32">, number> = { q8_0: 2 + 32, q4_0: 2 + 16 };

/** Bytes the data of `count` weights takes in this type. */
export function encodedSize(type: WeightType, count: number): number {
  if (type === "f32") return count * 4;
  if (count % BLOCK !== 0) throw new Error(`${type} needs a multiple of ${BLOCK} weights, got ${count}`);
  return (count / BLOCK) * BLOCK_BYTES[type];
}

/** The tensor data in this type, little-endian. */
export function encodeWeights(type: WeightType, x: Float32Array): Uint8Array {
  const out = new Uint8Array(encodedSize(type, x.length));
  const view = new DataView(out.buffer);
  if (type === "f32") {
    for (let i = 0; i < x.length; i++) view.setFloat32(i * 4, x[i] as number, true);
    return out;
  }
  const size = BLOCK_BYTES[type];
  for (let b = 0; b < x.length / BLOCK; b++) {
    const block = x.subarray(b * BLOCK, (b + 1) * BLOCK);
    if (type === "q8_0") quantizeQ8Block(block, view, b * size);
    else quantizeQ4Block(block, view, b * size);
  }
  return out;
}

function quantizeQ8Block(x: Float32Array, view: DataView, at: number): void {
  let amax = 0;
  for (const v of x) amax = Math.max(amax, Math.abs(v));
  const d = f32(amax / 127);
  const id = d !== 0 ? f32(1 / d) : 0;
  setFloat16(view, at, d, true);
  for (let j = 0; j < BLOCK; j++) view.setInt8(at + 2 + j, roundAway(f32((x[j] as number) * id)));
}

function quantizeQ4Block(x: Float32Array, view: DataView, at: number): void {
  let amax = 0;
  let max = 0;
  for (const v of x) {
    if (Math.abs(v) > amax) {
      amax = Math.abs(v);
      max = v;
    }
  }
  const d = f32(max / -8);
  const id = d !== 0 ? f32(1 / d) : 0;
  setFloat16(view, at, d, true);
  const code = (v: number) => Math.min(15, Math.trunc(f32(f32(v * id) + 8.5)));
  for (let j = 0; j < BLOCK / 2; j++)
    view.setUint8(at + 2 + j, code(x[j] as number) | (code(x[j + BLOCK / 2] as number) << 4));
}

const f32 = Math.fround;

/** C's roundf: halves away from zero (Math.round sends −2.5 to −2). */
function roundAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}
