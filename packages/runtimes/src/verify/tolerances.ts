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

export interface WasmTolerances {
  /** claimed standard units may exceed the verifier's measurement by this factor (+ slackUnits) */
  unitsFactor: number;
  slackUnits: number;
}

export const DEFAULT_WASM_TOLERANCES: WasmTolerances = { unitsFactor: 4, slackUnits: 2 };
