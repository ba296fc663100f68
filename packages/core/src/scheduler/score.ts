// Soft preferences among eligible providers: cheaper, faster, less loaded, more reputable.
// Lower score is better. Each term is normalised to roughly 0..1 so the weights mean something.
import type { ProviderView } from "./types.js";

export interface ScoreWeights {
  price: number;
  latency: number;
  load: number;
  reputation: number;
}

export const DEFAULT_WEIGHTS: ScoreWeights = { price: 1, latency: 0.5, load: 1, reputation: 1 };

export interface ScoreContext {
  /** cheapest and dearest price among the candidates, for normalisation */
  minPrice: number;
  maxPrice: number;
  /** fastest measured latency among candidates (ms), for normalisation */
  bestLatencyMs: number | null;
}

export function scoreProvider(
  p: ProviderView,
  running: number,
  ctx: ScoreContext,
  w: ScoreWeights = DEFAULT_WEIGHTS,
  /** what the job would pay here: a batch job its batch price (classes.ts priceFor) */
  price = p.capabilities.pricePerUnit,
): number {
  const priceTerm = ctx.maxPrice > ctx.minPrice ? (price - ctx.minPrice) / (ctx.maxPrice - ctx.minPrice) : 0;
  // an unmeasured provider is scored as average so that new nodes get work and get measured
  const latencyTerm =
    p.latencyMs === null || ctx.bestLatencyMs === null || ctx.bestLatencyMs <= 0
      ? 0.5
      : Math.min(1, 1 - ctx.bestLatencyMs / p.latencyMs);
  const loadTerm = running / p.capabilities.maxConcurrency;
  const reputationTerm = 1 - p.reputation;
  return w.price * priceTerm + w.latency * latencyTerm + w.load * loadTerm + w.reputation * reputationTerm;
}
