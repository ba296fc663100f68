import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeGguf, type GgufDocument } from "./writer.js";

const doc: GgufDocument = {
  metadata: [
    ["general.architecture", { type: "string", value: "llama" }],
    ["test.u8", { type: "u8", value: 200 }],
    ["test.i8", { type: "i8", value: -100 }],
    ["test.u16", { type: "u16", value: 60000 }],
    ["test.i16", { type: "i16", value: -30000 }],
    ["test.u32", { type: "u32", value: 4_000_000_000 }],
    ["test.i32", { type: "i32", value: -2_000_000_000 }],
    ["test.f32", { type: "f32", value: 0.5 }],
    ["test.f64", { type: "f64", value: 1 / 3 }],
    ["test.u64", { type: "u64", value: 2n ** 40n }],
    ["test.i64", { type: "i64", value: -(2n ** 40n) }],
    ["test.flag", { type: "bool", value: true }],
    ["test.strings", { type: "array", itemType: "string", value: ["a", "▁b", "<0x0A>"] }],
    ["test.ints", { type: "array", itemType: "i32", value: [1, -2, 3] }],
    ["test.floats", { type: "array", itemType: "f32", value: [0.25, -1.5] }],
  ],
  tensors: [
    { name: "a.weight", dims: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: "b.weight", dims: [5], data: Float32Array.from([-1, -2, -3, -4, -5]) },
  ],
  alignment: 32,
};

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-gguf-writer-"));
  path = join(dir, "doc.gguf");
  await writeFile(path, encodeGguf(doc));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("encodeGguf", () => {
  test("writes metadata that node-llama-cpp's GGUF reader parses back", async () => {
    const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
    expect(info.version).toBe(3);
    const m = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(m.general?.architecture).toBe("llama");
    expect(m.general?.alignment).toBe(32);
    expect(m.test).toMatchObject({
      u8: 200,
      i8: -100,
      u16: 60000,
      i16: -30000,
      u32: 4_000_000_000,
      i32: -2_000_000_000,
      f32: 0.5,
      f64: 1 / 3,
      flag: true,
      strings: ["a", "▁b", "<0x0A>"],
      ints: [1, -2, 3],
      floats: [0.25, -1.5],
    });
    expect(BigInt(m.test?.u64 as number | bigint)).toBe(2n ** 40n);
    expect(BigInt(m.test?.i64 as number | bigint)).toBe(-(2n ** 40n));
  });

  test("aligns tensor data to 32 bytes and stores F32 values little-endian", async () => {
    const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
    const tensors = info.tensorInfo ?? [];
    expect(tensors.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ["a.weight", [3, 2], 0],
      ["b.weight", [5], 0],
    ]);
    const bytes = await readFile(path);
    for (const [i, t] of tensors.entries()) {
      const at = Number(t.fileOffset);
      expect(at % 32).toBe(0);
      const values = Array.from({ length: doc.tensors[i]?.data.length ?? 0 }, (_, k) => bytes.readFloatLE(at + 4 * k));
      expect(values).toEqual(Array.from(doc.tensors[i]?.data ?? []));
    }
  });

  test("rejects a tensor whose dims do not match its data", () => {
    expect(() =>
      encodeGguf({ metadata: [], tensors: [{ name: "x", dims: [2, 2], data: new Float32Array(3) }] }),
    ).toThrow(/dims/);
  });
});
