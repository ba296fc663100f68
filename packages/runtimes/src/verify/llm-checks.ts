// The pure half of LLM verification: given what the teacher-forced pass measured at each output
// position, decide whether the claimed tokens are what the model would produce. Greedy: each token
// is the argmax or within a hair of it. Sampled: each token is plausible (in the top-k, above a
// probability floor) and the sequence's likelihood is where honest sampling puts it (a z-score).
import type { LlmParams } from "@tessera/protocol";
import type { LlmTolerances } from "./tolerances.js";

/** What the verifier measured at one output position (the prediction for claimed token k). */
export interface PositionMeasure {
  claimed: number;
  /** raw logit of the claimed token */
  claimedLogit: number;
  /** [token, logit] of the top candidates, best first (at least the argmax) */
  top: Array<[number, number]>;
  /** Σ exp(l − lmax) over the vocabulary */
  totalLogitWeight: number;
}

export interface CheckOutcome {
  reasons: string[];
  checks: string[];
  metrics: Record<string, number>;
}

/** Raw log-probability of a logit at a position: l − lmax − ln W. */
export function logprobAt(m: PositionMeasure, logit: number): number {
  const lmax = m.top[0]?.[1] ?? logit;
  return logit - lmax - Math.log(m.totalLogitWeight);
}

/** Claimed logprobs (what the provider reported) against the verifier's own. */
export function checkLogprobs(measures: PositionMeasure[], claimed: number[], tol: LlmTolerances): CheckOutcome {
  let worst = 0;
  let at = -1;
  for (const [k, m] of measures.entries()) {
    const d = Math.abs(logprobAt(m, m.claimedLogit) - (claimed[k] as number));
    if (d > worst) [worst, at] = [d, k];
  }
  const reasons =
    worst > tol.logprobDiffNats
      ? [`reported logprob of token ${at} is off by ${worst.toFixed(4)} nats (tolerance ${tol.logprobDiffNats})`]
      : [];
  return { reasons, checks: ["logprobs"], metrics: { maxLogprobDiff: worst } };
}

/** Greedy: every claimed token is the argmax, or trails it by at most greedyGapNats. */
export function checkGreedy(measures: PositionMeasure[], tol: LlmTolerances): CheckOutcome {
  let worst = 0;
  let at = -1;
  let argmaxFlips = 0;
  let over = 0;
  for (const [k, m] of measures.entries()) {
    const top = m.top[0];
    if (!top) continue;
    if (top[0] !== m.claimed) argmaxFlips++;
    const gap = top[1] - m.claimedLogit;
    if (gap > tol.greedyGapNats) over++;
    if (gap > worst) [worst, at] = [gap, k];
  }
  const reasons =
    over > 0
      ? [
          `${over} of ${measures.length} tokens are not the model's greedy choice; worst trails the top ` +
            `logit by ${worst.toFixed(4)} nats at token ${at} (tolerance ${tol.greedyGapNats})`,
        ]
      : [];
  return {
    reasons,
    checks: ["greedy"],
    metrics: { maxGreedyGap: worst, argmaxFlips, tokensOverGap: over },
  };
}

/**
 * For a temperature above 1: a lower bound on how unlikely the tempered sampler found a token, as a
 * log-probability under it: (l − lmax)/T less the log of a normaliser no larger than the true one
 * (the larger of the candidates' tempered weights and, since tempering above 1 only raises each
 * weight, the untempered Σ exp(l − lmax)). Never below the true value, so an honest token falls
 * under a floor at most V·e^floor of the time.
 */
function sampledLogprobAtLeast(m: PositionMeasure, logit: number, temperature: number): number {
  const lmax = m.top[0]?.[1] ?? logit;
  let read = 0;
  for (const [, l] of m.top) read += Math.exp((l - lmax) / temperature);
  const norm = Math.max(read, m.totalLogitWeight);
  return (logit - lmax) / temperature - Math.log(norm);
}

/** Candidate weights as the sampler forms them: top-k (given), tempered, cut to top-p. */
function samplerSupport(m: PositionMeasure, params: LlmParams): Array<[number, number, number]> {
  const temperature = params.temperature;
  const lmax = m.top[0]?.[1] ?? 0;
  const weighted = m.top.map(([t, l]) => [t, l, Math.exp((l - lmax) / temperature)] as [number, number, number]);
  if (params.topP === undefined || params.topP >= 1) return weighted;
  const total = weighted.reduce((s, w) => s + w[2], 0);
  let cum = 0;
  for (let i = 0; i < weighted.length; i++) {
    cum += weighted[i]?.[2] as number;
    if (cum >= params.topP * total) return weighted.slice(0, i + 1);
  }
  return weighted;
}

/**
 * Seeded sampling: per token, inside the top-k (with a tie slack) and above the floor; over the
 * sequence, the sum of raw logprobs against its mean and variance under the sampler's own
 * distribution (over the candidates read). A smaller model, random or replayed tokens score far
 * below; honest samples centre on 0.
 */
export function checkSampled(measures: PositionMeasure[], params: LlmParams, tol: LlmTolerances): CheckOutcome {
  const reasons: string[] = [];
  let minLogprob = 0;
  let rankViolations = 0;
  let outside = 0;
  let sum = 0;
  let mean = 0;
  let variance = 0;
  let scored = 0;
  // The floor asks whether the sampler could have drawn the token at all. Above temperature 1 it
  // flattens the distribution: at 2 (OpenAI's highest), a token of raw log-probability −30 has
  // weight e^−15 against the top token's 1, and a large vocabulary's tail of such tokens can be
  // drawn once in a hundred tokens or so, so a raw floor failed honest high-temperature samples.
  // Above 1, a token fails only when both its raw and its tempered log-probability are below it.
  let minFloorLogprob = 0;
  for (const m of measures) {
    const lp = logprobAt(m, m.claimedLogit);
    minLogprob = Math.min(minLogprob, lp);
    if (lp < tol.floorLogprob) {
      const t = params.temperature;
      minFloorLogprob = Math.min(
        minFloorLogprob,
        t > 1 ? Math.max(lp, sampledLogprobAtLeast(m, m.claimedLogit, t)) : lp,
      );
    }
    const inTop = m.top.some(([t]) => t === m.claimed);
    if (params.topK !== undefined && !inTop) {
      const kth = m.top.at(-1)?.[1] ?? -Infinity;
      if (m.claimedLogit < kth - tol.rankSlackNats) rankViolations++;
    }
    if (!inTop) {
      outside++;
      continue;
    }
    let support = samplerSupport(m, params);
    if (!support.some(([t]) => t === m.claimed)) support = samplerSupport(m, { ...params, topP: undefined });
    const total = support.reduce((s, w) => s + w[2], 0);
    let mu = 0;
    let second = 0;
    for (const [, l, w] of support) {
      const q = w / total;
      const x = logprobAt(m, l);
      mu += q * x;
      second += q * x * x;
    }
    sum += lp;
    mean += mu;
    variance += Math.max(0, second - mu * mu);
    scored++;
  }
  const z = variance > 0 ? (sum - mean) / Math.sqrt(variance) : 0;
  if (minFloorLogprob < tol.floorLogprob)
    reasons.push(
      `a token has log-probability ${minFloorLogprob.toFixed(2)} (raw and tempered), below the floor ${tol.floorLogprob}`,
    );
  if (rankViolations > 0) reasons.push(`${rankViolations} tokens lie outside the top ${params.topK} candidates`);
  const zTested = scored >= tol.minTokensForZ;
  if (zTested && z < tol.minLikelihoodZ)
    reasons.push(
      `sequence likelihood z-score ${z.toFixed(2)} is below ${tol.minLikelihoodZ}: far less likely than honest sampling`,
    );
  return {
    reasons,
    checks: zTested ? ["floor", "topK", "likelihood"] : ["floor", "topK"],
    metrics: { minLogprob, rankViolations, outsideCandidates: outside, likelihoodZ: z, scoredTokens: scored },
  };
}
