// Seeded sampling in JS over the model's raw logits: the same seed gives the same tokens on any
// node, the RNG lives with the job (not in a llama.cpp sampler reused across jobs), and the
// reported logprob is always under the model's own distribution, before temperature/top-k/top-p.
import type { Token } from "node-llama-cpp";
import type { Prng } from "../gguf/prng.js";

export interface SamplingParams {
  /** > 0; temperature 0 is greedy and handled natively */
  temperature: number;
  topK?: number;
  topP?: number;
}

export interface SampledToken {
  token: Token;
  /** natural-log probability under softmax(raw logits) */
  logprob: number;
}

/** Log of the softmax normaliser, in float64: max + ln Σ exp(l − max). */
export function logSumExp(logits: readonly number[]): number {
  let max = -Infinity;
  for (const l of logits) if (l > max) max = l;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  return max + Math.log(sum);
}

/** Best first, ties to the lower token id: the one order every node samples in. */
const byLogit = (a: [number, number], b: [number, number]) => b[1] - a[1] || a[0] - b[0];

/**
 * Samples one token. Candidates are ordered by logit (ties: lower token id), cut to `topK`, weighted
 * by exp((l − lmax)/T), cut to the smallest prefix whose mass reaches `topP`, then drawn with one
 * 53-bit uniform from `rng`.
 *
 * `logits` is either the whole vocabulary, or (with `logZ`, the log normaliser over the whole
 * vocabulary) its top-k candidates only: llama.cpp finds those in native code, which is far
 * cheaper than shipping every logit to JS and sorting them here. Candidates that arrive in order
 * (llama.cpp returns them sorted) are not sorted again.
 */
export function sampleToken(
  logits: ReadonlyMap<number, number>,
  params: SamplingParams,
  rng: Prng,
  logZ?: number,
): SampledToken {
  const subset = logZ !== undefined;
  const z = logZ ?? logSumExp([...logits.values()]);
  let cands: Array<[number, number]> = [];
  for (const [token, logit] of logits) if (Number.isFinite(logit)) cands.push([token, logit]);
  if (cands.length === 0) throw new Error("the model returned no finite logits");

  const cutTopK = params.topK !== undefined && params.topK < cands.length;
  const cutTopP = params.topP !== undefined && params.topP < 1;
  if (cutTopK || cutTopP || subset) {
    if (!inOrder(cands)) cands.sort(byLogit);
    if (cutTopK) cands = cands.slice(0, params.topK);
  }

  let lmax = -Infinity;
  for (const [, l] of cands) if (l > lmax) lmax = l;
  const weights = cands.map(([, l]) => Math.exp((l - lmax) / params.temperature));
  let total = weights.reduce((a, b) => a + b, 0);

  let kept = cands.length;
  if (cutTopP) {
    let cum = 0;
    for (let i = 0; i < weights.length; i++) {
      cum += weights[i] as number;
      if (cum >= (params.topP as number) * total) {
        kept = i + 1;
        break;
      }
    }
    total = weights.slice(0, kept).reduce((a, b) => a + b, 0);
  }

  const u = rng.nextDouble() * total;
  let cum = 0;
  let pick = kept - 1;
  for (let i = 0; i < kept; i++) {
    cum += weights[i] as number;
    if (u < cum) {
      pick = i;
      break;
    }
  }
  const [token, logit] = cands[pick] as [number, number];
  return { token: token as Token, logprob: logit - z };
}

function inOrder(cands: Array<[number, number]>): boolean {
  for (let i = 1; i < cands.length; i++)
    if (byLogit(cands[i - 1] as [number, number], cands[i] as [number, number]) > 0) return false;
  return true;
}
