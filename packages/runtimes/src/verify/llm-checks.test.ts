// The pure checks on synthetic measures shaped like a real model's: a few likely candidates and a
// long tail of unlikely tokens that the tiny test model, with its small vocabulary, never has.
import { describe, expect, it } from "vitest";
import { checkSampled, type PositionMeasure } from "./llm-checks.js";
import { DEFAULT_LLM_TOLERANCES } from "./tolerances.js";

const TAIL = 100_000;
const TAIL_LOGIT = -30;

/** One position: the 40 candidates read (logit 0, then −4 … −9.85) and 100,000 tail tokens at −30. */
function position(claimed: number, claimedLogit: number): PositionMeasure {
  const top: Array<[number, number]> = Array.from({ length: 40 }, (_, i) => [i, i === 0 ? 0 : -4 - 0.15 * i]);
  const totalLogitWeight = top.reduce((s, [, l]) => s + Math.exp(l), 0) + TAIL * Math.exp(TAIL_LOGIT);
  return { claimed, claimedLogit, top, totalLogitWeight };
}

describe("the sampled floor", () => {
  it("passes an honest temperature-2 sample holding a tail token, which the tempered sampler draws often", () => {
    // at temperature 2 the tail weighs TAIL·e^(−30/2) ≈ 0.031 against ≈ 2.64 for the candidates:
    // about one token in 87 comes from it, so two honest answers of a hundred tokens in three hold one
    const measures = [position(0, 0), position(5, -4.75), position(1_000, TAIL_LOGIT), position(0, 0)];
    const r = checkSampled(measures, { temperature: 2 }, DEFAULT_LLM_TOLERANCES);
    expect(r.metrics.minLogprob).toBeLessThan(DEFAULT_LLM_TOLERANCES.floorLogprob);
    expect(r.reasons).toEqual([]);
  });

  it("still fails a token not even the tempered sampler would draw, and the tail token at temperature 1", () => {
    const hot = checkSampled([position(0, 0), position(1_000, -60)], { temperature: 2 }, DEFAULT_LLM_TOLERANCES);
    expect(hot.reasons.join(" ")).toMatch(/below the floor/);
    for (const temperature of [1, 0.7]) {
      const r = checkSampled([position(0, 0), position(1_000, TAIL_LOGIT)], { temperature }, DEFAULT_LLM_TOLERANCES);
      expect(r.reasons.join(" ")).toMatch(/below the floor/);
    }
  });
});
