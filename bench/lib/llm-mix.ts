// Shared by the verification benches (verification-fairness, catching-cheaters, audit-overhead):
// the tiny model, runtimes configured as a provider and as verifiers, a seeded mix of LLM jobs
// (greedy and seeded sampling, prompt and chat inputs, stop strings, varied output lengths) and
// the percentiles of the margins a verdict report records.
import { join } from "node:path";
import type { LlmJobSpec, LlmParams } from "@tessera/protocol";
import { createLlmRuntime, ensureTinyModel, type LlmRuntime, WEIGHT_TYPES, type WeightType } from "@tessera/runtimes";
import { percentile } from "./stats.js";

/** The tiny model the tests and benches share (generated once, byte-identical everywhere). */
export function tinyModel(weights: WeightType = "f32"): Promise<string> {
  return ensureTinyModel(join(process.env.TMPDIR ?? "/tmp", "tessera-test-models"), weights);
}

/** The `--weights` flag: how the tiny model's matrices are stored. */
export const WEIGHTS_FLAG = {
  help: `how the tiny model's matrices are stored: ${WEIGHT_TYPES.join(", ")}`,
  default: "f32",
};

export function parseWeights(value: string): WeightType {
  const w = WEIGHT_TYPES.find((t) => t === value);
  if (!w) throw new Error(`--weights must be one of ${WEIGHT_TYPES.join(", ")}, got '${value}'`);
  return w;
}

/** A quantized run writes its own result file beside the F32 one: `<bench>-<weights>`. */
export const resultName = (bench: string, weights: WeightType): string =>
  weights === "f32" ? bench : `${bench}-${weights}`;

/** How a runtime is set up: the knobs that change float order between two honest machines. */
export interface RuntimeSetup {
  threads: number;
  batchSize: number;
}

export const label = (s: RuntimeSetup): string => `threads ${s.threads}, batch ${s.batchSize}`;

export function openRuntime(model: string, s: RuntimeSetup): Promise<LlmRuntime> {
  return createLlmRuntime({ modelPaths: [model], threads: s.threads, batchSize: s.batchSize });
}

/** mulberry32: a small seeded generator, uniform in [0, 1) (as test/helpers/adversary.ts uses) */
export function seeded(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the world is water and fire once upon a time there was a network of small machines that would compute " +
  "answers for people who asked them questions about the sea the sun the river and the city tell me a story " +
  "about a dog a bird a horse or a king write a list of numbers explain how to build a house what is the name " +
  "of the tree near the school hello Tessera model token compute every good boy does fine"
).split(" ");
const SYSTEM = ["You are a helpful assistant.", "Answer briefly.", "You write stories for children."];

export interface MixOptions {
  /** output caps drawn uniformly from this list */
  lengths: number[];
  /** share of greedy jobs (the rest are seeded samples) */
  greedyShare?: number;
  /** share of jobs with a stop string */
  stopShare?: number;
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}

function sentence(rand: () => number, min: number, max: number): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  const words = Array.from({ length: n }, () => pick(rand, WORDS));
  if (rand() < 0.2) words.push(String(Math.floor(rand() * 10_000)));
  return words.join(" ");
}

/** One seeded job of the mix; `i` only varies the prompt, so mixes of two seeds share nothing. */
export function mixJob(rand: () => number, model: string, o: MixOptions): LlmJobSpec {
  // prompts of 1–12 words mostly, a few of 40–120 (a longer prefill)
  const long = rand() < 0.08;
  const text = long ? sentence(rand, 40, 120) : sentence(rand, 1, 12);
  const input: LlmJobSpec["input"] =
    rand() < 0.35
      ? {
          messages: [
            ...(rand() < 0.5 ? [{ role: "system" as const, content: pick(rand, SYSTEM) }] : []),
            { role: "user" as const, content: text },
          ],
        }
      : { prompt: text };
  let params: LlmParams;
  if (rand() < (o.greedyShare ?? 0.5)) params = { temperature: 0 };
  else {
    params = { temperature: pick(rand, [0.3, 0.7, 1, 1.5]), seed: Math.floor(rand() * 2 ** 32) };
    const topK = pick(rand, [undefined, 5, 40, 100]);
    if (topK !== undefined) params.topK = topK;
    const topP = pick(rand, [undefined, undefined, 0.5, 0.9]);
    if (topP !== undefined) params.topP = topP;
  }
  // a stop string that the tiny model's output often contains, so "stop" finishes are common
  if (rand() < (o.stopShare ?? 0.15)) params.stop = [pick(rand, ["e", " the", ".", "s t"])];
  return { runtime: "llm", model, input, params, limits: { maxOutputTokens: pick(rand, o.lengths) } };
}

export function jobMix(n: number, seed: number, model: string, o: MixOptions): LlmJobSpec[] {
  const rand = seeded(seed);
  return Array.from({ length: n }, () => mixJob(rand, model, o));
}

export const isGreedy = (spec: LlmJobSpec): boolean => spec.params.temperature === 0;

/** A short description of a spec for logs and saved cases. */
export function describeSpec(spec: LlmJobSpec): string {
  const p = spec.params;
  const how =
    p.temperature === 0 ? "greedy" : `T ${p.temperature} seed ${p.seed} topK ${p.topK ?? "-"} topP ${p.topP ?? "-"}`;
  const input = "prompt" in spec.input ? "prompt" : `chat(${spec.input.messages.length})`;
  return `${how}, ${input}, max ${spec.limits.maxOutputTokens}${p.stop ? `, stop ${JSON.stringify(p.stop)}` : ""}`;
}

export interface Tail {
  n: number;
  p50: number;
  /** the 1-in-100 and 1-in-1,000 values on the bad side of the distribution */
  p1in100: number;
  p1in1000: number;
  worst: number;
}

/** Percentiles on the bad side: high values for "higher is worse" margins, low ones otherwise. */
export function tail(values: number[], worse: "high" | "low"): Tail {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(s, worse === "high" ? p : 100 - p);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p1in100: at(99),
    p1in1000: at(99.9),
    worst: (worse === "high" ? s.at(-1) : s[0]) ?? Number.NaN,
  };
}

/** A number for a margin table: small ones in scientific notation, the rest to 3 places. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a < 0.001 ? x.toExponential(1) : a < 100 ? x.toFixed(3) : x.toFixed(0);
}
