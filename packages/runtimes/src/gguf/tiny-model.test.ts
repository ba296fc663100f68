import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, describe, expect, test } from "vitest";
import { createLlmRuntime } from "../llm/index.js";
import { ggufParameterCount } from "./params.js";
import {
  CHATML_TEMPLATE,
  encodeTinyModel,
  ensureTinyModel,
  makeTinyModel,
  tinyModelParameterCount,
} from "./tiny-model.js";

// The tiny model's id on the network. If this changes, every node and test fixture pinned to the
// old id breaks: change the generator only on purpose, and update this together.
const TINY_SHA256 = "96389be0649aa1e54654fb5a2be80e0de9001a4b0e1003598cf93a10efee6b5b";
const TINY_PARAMETERS = 1_437_312;

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tessera-tiny-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

describe("tiny model generator", () => {
  test("writes byte-identical files on every generation (pinned sha256)", async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const pa = await makeTinyModel(join(a, "m.gguf"));
    const pb = await makeTinyModel(join(b, "m.gguf"));
    expect(await sha256(pa)).toBe(TINY_SHA256);
    expect(await sha256(pb)).toBe(TINY_SHA256);
  });

  test("parses back as a llama model with a byte-fallback SentencePiece vocabulary", async () => {
    const path = await makeTinyModel(join(await tempDir(), "m.gguf"));
    const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
    const md = info.metadata;
    expect(md.general.architecture).toBe("llama");
    expect(md.llama).toMatchObject({
      context_length: 2048,
      embedding_length: 128,
      block_count: 4,
      feed_forward_length: 512,
      attention: { head_count: 4, head_count_kv: 4 },
      rope: { dimension_count: 32 },
    });
    const tok = md.tokenizer.ggml as unknown as {
      model: string;
      tokens: string[];
      token_type: number[];
      bos_token_id: number;
      eos_token_id: number;
    };
    expect(tok.model).toBe("llama");
    expect(tok.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(tok.tokens[258]).toBe("<0xFF>");
    expect(tok.token_type.slice(3, 259).every((t) => t === 6)).toBe(true);
    expect([tok.bos_token_id, tok.eos_token_id]).toEqual([1, 2]);
    expect(tok.tokens).toContain("▁hello");
    expect(md.tokenizer.chat_template).toBe(CHATML_TEMPLATE);

    const names = (info.tensorInfo ?? []).map((t) => t.name);
    for (const n of ["token_embd.weight", "output_norm.weight", "output.weight"]) expect(names).toContain(n);
    for (const part of [
      "attn_norm",
      "attn_q",
      "attn_k",
      "attn_v",
      "attn_output",
      "ffn_norm",
      "ffn_gate",
      "ffn_up",
      "ffn_down",
    ]) {
      expect(names).toContain(`blk.3.${part}.weight`);
    }
    expect(ggufParameterCount(info.tensorInfo ?? [])).toBe(TINY_PARAMETERS);
    expect(tinyModelParameterCount()).toBe(TINY_PARAMETERS);
  });

  test("honours options: no chat template, other sizes, other seeds", async () => {
    const noChat = encodeTinyModel({ chatTemplate: false });
    expect(Buffer.from(noChat).includes("chat_template")).toBe(false);
    expect(Buffer.from(noChat).includes("<|im_start|>")).toBe(false);
    const small = { embeddingLength: 64, blockCount: 2, feedForwardLength: 256 };
    const path = await makeTinyModel(join(await tempDir(), "s.gguf"), small);
    const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
    expect(ggufParameterCount(info.tensorInfo ?? [])).toBe(tinyModelParameterCount(small));
    expect(Buffer.compare(encodeTinyModel({ seed: 1 }), encodeTinyModel({ seed: 2 }))).not.toBe(0);
  });

  test.each([
    ["q8_0", 7, 8],
    ["q4_0", 2, 2],
  ] as const)(
    "quantized (%s): matrices stored quantized, norms F32, loads and generates in llama.cpp",
    async (weights, fileType, ggmlType) => {
      const path = await ensureTinyModel(await tempDir(), weights);
      expect(path.endsWith(`tessera-tiny-${weights}.gguf`)).toBe(true);
      const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
      expect(info.metadata.general.file_type).toBe(fileType);
      for (const t of info.tensorInfo ?? []) expect(t.ggmlType).toBe(t.dimensions.length === 2 ? ggmlType : 0);
      expect(ggufParameterCount(info.tensorInfo ?? [])).toBe(TINY_PARAMETERS);
      const rt = await createLlmRuntime({ modelPaths: [path], threads: 1 });
      try {
        const spec = {
          runtime: "llm" as const,
          model: rt.models()[0]?.id as string,
          input: { prompt: "The world is" },
          params: { temperature: 0 },
          limits: { maxOutputTokens: 12 },
        };
        const ctx = () => ({ jobId: "q", attempt: 1, signal: new AbortController().signal });
        const [a, b] = [await rt.execute(spec, ctx()), await rt.execute(spec, ctx())];
        expect(a.output.tokens.length).toBeGreaterThan(0);
        expect(b.output.tokens).toEqual(a.output.tokens);
      } finally {
        await rt.close();
      }
    },
  );

  test("ensureTinyModel creates the file once, atomically, for concurrent callers", async () => {
    const dir = join(await tempDir(), "nested", "cache");
    const paths = await Promise.all([ensureTinyModel(dir), ensureTinyModel(dir), ensureTinyModel(dir)]);
    expect(new Set(paths)).toEqual(new Set([join(dir, "tessera-tiny.gguf")]));
    expect(await sha256(paths[0] as string)).toBe(TINY_SHA256);
    expect(await readdir(dir)).toEqual(["tessera-tiny.gguf"]); // no temp files left behind
    expect(await ensureTinyModel(dir)).toBe(paths[0]);
  });
});
