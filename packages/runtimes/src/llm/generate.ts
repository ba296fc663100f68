// One generation on one context sequence: prefill, then one token per step through
// `controlledEvaluate`, so each step returns exactly the numbers we need (the greedy pick and the
// softmax normaliser, or the full raw logits for seeded sampling) and nothing is left to a
// sampler whose state could outlive the job.
import { randomInt } from "node:crypto";
import type { LlmOutput } from "@tessera/protocol";
import type {
  ControlledEvaluateIndexOutput,
  ControlledEvaluateInputItem,
  LlamaContextSequence,
  Token,
} from "node-llama-cpp";
import { Prng } from "../gguf/prng.js";
import { throwIfAborted } from "./abort.js";
import { OutputText } from "./output-text.js";
import { sampleToken } from "./sampler.js";

export interface GenerateOptions {
  promptTokens: readonly Token[];
  maxOutputTokens: number;
  /** 0 = greedy */
  temperature: number;
  topK?: number;
  topP?: number;
  /** sampling seed; a random one when absent */
  seed?: number;
  stopStrings: readonly string[];
  /** extra end tokens besides the model's end-of-generation tokens */
  stopTokens: readonly Token[];
  signal?: AbortSignal;
  onChunk?: (chunk: { text: string; tokens: number[] }) => void;
}

type NextOptions = NonNullable<Extract<ControlledEvaluateInputItem, unknown[]>[1]["generateNext"]>;

// Greedy: llama.cpp's greedy sampler picks the argmax over the raw logits; the total logit weight
// Σ exp(l − lmax) gives its log-probability as −ln(total) without shipping the vocabulary to JS.
const GREEDY_NEXT: NextOptions = { token: true, totalLogitWeight: true };
// Sampling: the raw logits, sampled in JS (sampler.ts). With a top-k, only the k best come over,
// found by llama.cpp, with the normaliser: shipping and sorting the whole vocabulary in JS on every
// step made sampled generation about twice as slow as greedy on the tiny model.
const SAMPLED_NEXT: NextOptions = { logits: true };
const topKNext = (k: number): NextOptions => ({
  logits: { filter: { tokens: [], includeTop: k } },
  totalLogitWeight: true,
});

export async function generate(sequence: LlamaContextSequence, opts: GenerateOptions): Promise<LlmOutput> {
  const model = sequence.model;
  const greedy = opts.temperature === 0;
  const next = greedy ? GREEDY_NEXT : opts.topK !== undefined ? topKNext(opts.topK) : SAMPLED_NEXT;
  const rng = greedy ? undefined : new Prng(opts.seed ?? randomInt(2 ** 32 - 1));
  const stopTokens = new Set(opts.stopTokens);

  // Every job starts from an empty KV cache: nothing of an earlier job can leak into this one.
  await sequence.clearHistory();
  let input = await prefill(sequence, opts.promptTokens, next, opts.signal);

  const tokens: Token[] = [];
  const logprobs: number[] = [];
  const output = new OutputText(model, opts.promptTokens, opts.stopStrings);
  let text = "";
  let unsent: number[] = [];
  // Chunks carry the tokens produced since the previous chunk, so concatenated chunk tokens equal
  // `tokens`; the last chunk may have empty text (e.g. the end-of-generation token alone).
  const send = (piece: string, last: boolean) => {
    if (piece === "" && !(last && unsent.length > 0)) return;
    text += piece;
    const chunk = { text: piece, tokens: unsent };
    unsent = [];
    opts.onChunk?.(chunk);
  };

  let finishReason: LlmOutput["finishReason"] = "length";
  while (tokens.length < opts.maxOutputTokens) {
    throwIfAborted(opts.signal);
    const results = await sequence.controlledEvaluate(input);
    const picked = pick(results[input.length - 1], greedy, opts, rng);
    tokens.push(picked.token);
    logprobs.push(picked.logprob);
    unsent.push(picked.token);
    if (model.isEogToken(picked.token) || stopTokens.has(picked.token)) {
      finishReason = "stop";
      break;
    }
    const scan = output.push(picked.token);
    if (scan.stopped) {
      finishReason = "stop";
      send(scan.emit, true);
      return { text, tokens, logprobs, finishReason };
    }
    send(scan.emit, false);
    input = [[picked.token, { generateNext: next }]];
  }
  const rest = output.finish();
  if (rest.stopped) finishReason = "stop";
  send(rest.emit, true);
  return { text, tokens, logprobs, finishReason };
}

/** Evaluates the prompt in batch-size chunks (checking for cancellation between them); returns the
 * input for the first generation step: the last prompt token, asking for the next-token data. */
async function prefill(
  sequence: LlamaContextSequence,
  prompt: readonly Token[],
  next: NextOptions,
  signal: AbortSignal | undefined,
): Promise<ControlledEvaluateInputItem[]> {
  const batch = sequence.context.batchSize;
  const last = prompt.length - 1;
  let start = 0;
  while (last - start >= batch) {
    throwIfAborted(signal);
    await sequence.controlledEvaluate(prompt.slice(start, start + batch));
    start += batch;
  }
  const tail: ControlledEvaluateInputItem[] = prompt.slice(start, last);
  tail.push([prompt[last] as Token, { generateNext: next }]);
  return tail;
}

function pick(
  result: ControlledEvaluateIndexOutput | undefined,
  greedy: boolean,
  opts: GenerateOptions,
  rng: Prng | undefined,
): { token: Token; logprob: number } {
  if (!result) throw new Error("llama.cpp returned no output for the last token");
  if (greedy) {
    const token = result.next.token;
    const total = result.next.totalLogitWeight;
    if (token == null || total == null) throw new Error("llama.cpp returned no token");
    return { token, logprob: -Math.log(total) };
  }
  const logits = result.next.logits;
  if (!logits) throw new Error("llama.cpp returned no logits");
  const params = { temperature: opts.temperature, topK: opts.topK, topP: opts.topP };
  const total = result.next.totalLogitWeight;
  if (total === undefined) return sampleToken(logits, params, rng as Prng);
  // the top-k only: the normaliser over the whole vocabulary is lmax + ln Σ exp(l − lmax)
  let lmax = -Infinity;
  for (const l of logits.values()) if (l > lmax) lmax = l;
  return sampleToken(logits, params, rng as Prng, lmax + Math.log(total));
}
