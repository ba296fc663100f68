// A tiny llama-architecture GGUF with seeded random F32 weights: small enough to generate and run
// on two CPU cores in tests and demos, byte-identical on every machine so its sha256 is a stable
// model id. Its output is gibberish by design; it exercises the real llama.cpp path end to end.
import { randomBytes } from "node:crypto";
import { mkdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Prng } from "./prng.js";
import { FILE_TYPE, type WeightType } from "./quantize.js";
import { buildVocabulary } from "./vocab.js";
import { encodeGguf, type GgufTensor, type GgufValue } from "./writer.js";

export interface TinyModelOptions {
  seed?: number;
  embeddingLength?: number;
  blockCount?: number;
  headCount?: number;
  headCountKv?: number;
  feedForwardLength?: number;
  contextLength?: number;
  /** include ChatML control tokens and a ChatML `tokenizer.chat_template` (default true) */
  chatTemplate?: boolean;
  /** how the matrices are stored (norms stay F32, as in llama.cpp's quantized files); default f32 */
  weights?: WeightType;
}

export const TINY_MODEL_FILE = "tessera-tiny.gguf";

const DEFAULTS: Required<TinyModelOptions> = {
  seed: 20240229,
  embeddingLength: 128,
  blockCount: 4,
  headCount: 4,
  headCountKv: 4,
  feedForwardLength: 512,
  contextLength: 2048,
  chatTemplate: true,
  weights: "f32",
};

/** The standard ChatML template; node-llama-cpp recognises it as its built-in ChatML wrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

interface TensorPlan {
  name: string;
  dims: number[];
  /** standard deviation of the init, or "ones" for norm weights */
  init: number | "ones";
}

function resolve(opts: TinyModelOptions = {}): Required<TinyModelOptions> {
  const o = { ...DEFAULTS, ...opts };
  if (o.embeddingLength % o.headCount !== 0) throw new Error("embeddingLength must be a multiple of headCount");
  if (o.headCount % o.headCountKv !== 0) throw new Error("headCount must be a multiple of headCountKv");
  return o;
}

function planTensors(o: Required<TinyModelOptions>, vocabSize: number): TensorPlan[] {
  const e = o.embeddingLength;
  const kv = (e / o.headCount) * o.headCountKv;
  const ff = o.feedForwardLength;
  // Scales chosen so activations stay O(1) through the residual stream and the logits have a
  // spread of a few nats: peaked enough that greedy choices are clear-cut rather than float noise,
  // and attention varied enough that greedy text does not collapse into one repeated token.
  const proj = 1 / Math.sqrt(e);
  const plan: TensorPlan[] = [{ name: "token_embd.weight", dims: [e, vocabSize], init: 1 }];
  for (let i = 0; i < o.blockCount; i++) {
    const b = `blk.${i}`;
    plan.push(
      { name: `${b}.attn_norm.weight`, dims: [e], init: "ones" },
      { name: `${b}.attn_q.weight`, dims: [e, e], init: 2 * proj },
      { name: `${b}.attn_k.weight`, dims: [e, kv], init: 2 * proj },
      { name: `${b}.attn_v.weight`, dims: [e, kv], init: proj },
      { name: `${b}.attn_output.weight`, dims: [e, e], init: proj },
      { name: `${b}.ffn_norm.weight`, dims: [e], init: "ones" },
      { name: `${b}.ffn_gate.weight`, dims: [e, ff], init: proj },
      { name: `${b}.ffn_up.weight`, dims: [e, ff], init: proj },
      { name: `${b}.ffn_down.weight`, dims: [ff, e], init: 1 / Math.sqrt(ff) },
    );
  }
  plan.push(
    { name: "output_norm.weight", dims: [e], init: "ones" },
    { name: "output.weight", dims: [e, vocabSize], init: 5 * proj },
  );
  return plan;
}

/** Parameter count of the tiny model for the given options (every tensor element counts). */
export function tinyModelParameterCount(opts?: TinyModelOptions): number {
  const o = resolve(opts);
  const vocabSize = buildVocabulary({ chatTokens: o.chatTemplate }).tokens.length;
  return planTensors(o, vocabSize).reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
}

/** The GGUF bytes of the tiny model: a pure function of the options. */
export function encodeTinyModel(opts?: TinyModelOptions): Uint8Array {
  const o = resolve(opts);
  const vocab = buildVocabulary({ chatTokens: o.chatTemplate });
  const rng = new Prng(o.seed);
  const tensors: GgufTensor[] = planTensors(o, vocab.tokens.length).map((t) => {
    const n = t.dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (t.init === "ones") data.fill(1);
    else for (let i = 0; i < n; i++) data[i] = rng.nextNormal() * t.init;
    return { name: t.name, dims: t.dims, data, type: t.dims.length === 2 ? o.weights : "f32" };
  });

  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: "tessera-tiny" }],
    ["general.description", { type: "string", value: "Seeded random weights for tests; output is not meaningful." }],
    ["general.file_type", u32(FILE_TYPE[o.weights])],
    ["llama.vocab_size", u32(vocab.tokens.length)],
    ["llama.context_length", u32(o.contextLength)],
    ["llama.embedding_length", u32(o.embeddingLength)],
    ["llama.block_count", u32(o.blockCount)],
    ["llama.feed_forward_length", u32(o.feedForwardLength)],
    ["llama.attention.head_count", u32(o.headCount)],
    ["llama.attention.head_count_kv", u32(o.headCountKv)],
    ["llama.rope.dimension_count", u32(o.embeddingLength / o.headCount)],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: 1e-5 }],
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: "array", itemType: "f32", value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", value: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", u32(vocab.unkId)],
    ["tokenizer.ggml.bos_token_id", u32(vocab.bosId)],
    ["tokenizer.ggml.eos_token_id", u32(vocab.eosId)],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    ["tokenizer.ggml.add_space_prefix", { type: "bool", value: true }],
  ];
  if (o.chatTemplate) metadata.push(["tokenizer.chat_template", { type: "string", value: CHATML_TEMPLATE }]);
  return encodeGguf({ metadata, tensors, alignment: 32 });
}

/** Writes the tiny model to `path` atomically (temp file + rename): readers never see half a file. */
export async function makeTinyModel(path: string, opts?: TinyModelOptions): Promise<string> {
  const bytes = encodeTinyModel(opts);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return path;
}

/**
 * Returns `<dir>/tessera-tiny.gguf` (or `tessera-tiny-<weights>.gguf` for a quantized one),
 * generating it with default options if it is not there yet.
 */
export async function ensureTinyModel(dir: string, weights: WeightType = "f32"): Promise<string> {
  const path = join(dir, weights === "f32" ? TINY_MODEL_FILE : `tessera-tiny-${weights}.gguf`);
  const exists = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (exists) return path;
  await mkdir(dir, { recursive: true });
  return makeTinyModel(path, { weights });
}
