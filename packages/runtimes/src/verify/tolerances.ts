// How far an honest result may stray from the verifier's own numbers. Honest differences come from
// float order (threads, batch sizes, CPU features): measured ≤ ~0.01 nats on logprobs and near-ties
// as close as 0.001 nats, so the defaults leave an order of magnitude of room while a different
// model, random tokens or a replayed answer miss by whole nats on many tokens.

export interface LlmTolerances {
  /** greedy: a claimed token's logit may trail the top logit by at most this (nats) */
  greedyGapNats: number;
  /** |claimed logprob − verifier's logprob| per token, in nats */
  logprobDiffNats: number;
  /** sampled: no claimed token may have a raw log-probability below this */
  floorLogprob: number;
  /** sampled with topK: a token ranked past k passes if its logit is within this of the k-th */
  rankSlackNats: number;
  /** sampled: the likelihood z-score of the whole sequence must be at least this */
  minLikelihoodZ: number;
  /** sampled: the z-test runs only on outputs with at least this many scored tokens */
  minTokensForZ: number;
  /** sampled without topK: the candidate set the verifier reads at each position */
  defaultCandidates: number;
}

export const DEFAULT_LLM_TOLERANCES: LlmTolerances = {
  greedyGapNats: 0.1,
  logprobDiffNats: 0.1,
  floorLogprob: -25,
  rankSlackNats: 0.1,
  minLikelihoodZ: -8,
  minTokensForZ: 16,
  defaultCandidates: 40,
};

/**
 * Quantized weights (Q8_0, Q4_0, the K-quants: how GGUF models are usually shipped) re-quantize
 * every layer's input to int8, so the float-order noise between generation (one token per decode)
 * and the verifier's batched pass can cross a rounding step and grow: on the tiny model, honest
 * Q8_0 / Q4_0 results disagreed by up to 0.3 nats on a logprob and 0.2 on a greedy gap where F32
 * stayed under 0.012. A different model still misses by whole nats (≥ 20 on the tiny model).
 */
export const QUANTIZED_LLM_TOLERANCES: LlmTolerances = {
  ...DEFAULT_LLM_TOLERANCES,
  greedyGapNats: 1,
  logprobDiffNats: 1,
  rankSlackNats: 1,
};

/** ggml types that store weights as plain floats (F32, F16, BF16); any other is quantized. */
const FLOAT_TYPES = new Set([0, 1, 30]);

/** The tolerances for a model whose matrices (tensors of two or more dimensions) have these types. */
export function llmTolerancesFor(
  tensors: ReadonlyArray<{ ggmlType: number; dimensions: readonly unknown[] }>,
): LlmTolerances {
  const quantized = tensors.some((t) => t.dimensions.length >= 2 && !FLOAT_TYPES.has(t.ggmlType));
  return quantized ? QUANTIZED_LLM_TOLERANCES : DEFAULT_LLM_TOLERANCES;
}
