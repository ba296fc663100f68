// A minimal GGUF v3 encoder: metadata key/values, tensor infos and tensor data (F32, or quantized
// to Q8_0 / Q4_0 by quantize.ts), little-endian, laid out exactly as llama.cpp expects so generated
// files load like any downloaded model.
import { encodedSize, encodeWeights, GGML_TYPE, type WeightType } from "./quantize.js";

/** GGUF metadata value types, as numbered by the GGUF spec. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufScalarType = Exclude<(typeof GgufValueType)[keyof typeof GgufValueType], 9>;

/** A typed metadata value: the type is explicit because JS numbers do not say u32 vs f32. */
export type GgufValue =
  | { type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; value: number }
  | { type: "u64" | "i64"; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: "u32" | "i32" | "f32"; value: ArrayLike<number> }
  | { type: "array"; itemType: "string"; value: readonly string[] };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the contiguous (fastest-varying) dimension */
  dims: readonly number[];
  data: Float32Array;
  /** how the data is stored (default f32); quantized types need a multiple of 32 values */
  type?: WeightType;
}

export interface GgufDocument {
  /** written in insertion order, so the bytes are reproducible */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensor[];
  alignment?: number;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const GGUF_VERSION = 3;

const scalarCodes: Record<string, GgufScalarType> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  u64: 10,
  i64: 11,
  f64: 12,
};

/** Growable little-endian byte sink. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.view.setInt8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.view.setInt16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }
  i64(v: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, v, true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  pad(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.bytes(new Uint8Array(alignment - rem));
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeScalar(out: ByteSink, type: string, value: number | bigint | boolean | string): void {
  switch (type) {
    case "u8":
      out.u8(value as number);
      break;
    case "i8":
      out.i8(value as number);
      break;
    case "u16":
      out.u16(value as number);
      break;
    case "i16":
      out.i16(value as number);
      break;
    case "u32":
      out.u32(value as number);
      break;
    case "i32":
      out.i32(value as number);
      break;
    case "f32":
      out.f32(value as number);
      break;
    case "f64":
      out.f64(value as number);
      break;
    case "u64":
      out.u64(value as bigint);
      break;
    case "i64":
      out.i64(value as bigint);
      break;
    case "bool":
      out.u8(value ? 1 : 0);
      break;
    case "string":
      out.string(value as string);
      break;
    default:
      throw new Error(`unsupported GGUF value type ${type}`);
  }
}

function writeValue(out: ByteSink, v: GgufValue): void {
  if (v.type === "array") {
    out.u32(GgufValueType.ARRAY);
    out.u32(scalarCodes[v.itemType] as number);
    out.u64(BigInt(v.value.length));
    for (let i = 0; i < v.value.length; i++) writeScalar(out, v.itemType, v.value[i] as number | string);
    return;
  }
  out.u32(scalarCodes[v.type] as number);
  writeScalar(out, v.type, v.value);
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Encodes a whole GGUF file in memory (fine for the small models this is used for). */
export function encodeGguf(doc: GgufDocument): Uint8Array {
  const alignment = doc.alignment ?? 32;
  const metadata = doc.metadata.filter(([key]) => key !== "general.alignment");
  // llama.cpp reads the alignment from metadata; writing it keeps the file self-describing.
  metadata.push(["general.alignment", { type: "u32", value: alignment }]);

  const out = new ByteSink();
  out.u32(GGUF_MAGIC);
  out.u32(GGUF_VERSION);
  out.u64(BigInt(doc.tensors.length));
  out.u64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, value);
  }

  let offset = 0;
  for (const t of doc.tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length)
      throw new Error(`tensor ${t.name}: dims ${t.dims} do not match ${t.data.length} values`);
    out.string(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(BigInt(d));
    out.u32(GGML_TYPE[t.type ?? "f32"]);
    out.u64(BigInt(offset));
    offset = alignUp(offset + encodedSize(t.type ?? "f32", t.data.length), alignment);
  }
  out.pad(alignment);

  for (const t of doc.tensors) {
    out.bytes(encodeWeights(t.type ?? "f32", t.data)); // little-endian whatever the host's order
    out.pad(alignment);
  }
  return out.result();
}
