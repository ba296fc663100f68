import { describe, expect, test } from "vitest";
import { Prng } from "../gguf/prng.js";
import { logSumExp, sampleToken } from "./sampler.js";

const logits = new Map<number, number>([
  [0, 1.0],
  [1, 3.0],
  [2, 2.5],
  [3, -1.0],
  [4, 2.9],
]);
const logZ = logSumExp([...logits.values()]);

function draw(seed: number, n: number, params: Parameters<typeof sampleToken>[1]) {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => sampleToken(logits, params, rng).token);
}

describe("sampleToken", () => {
  test("is reproducible for a seed and varies across seeds", () => {
    expect(draw(7, 50, { temperature: 1 })).toEqual(draw(7, 50, { temperature: 1 }));
    expect(draw(7, 50, { temperature: 1 })).not.toEqual(draw(8, 50, { temperature: 1 }));
  });

  test("top-k 1 and a tiny top-p reduce to the argmax", () => {
    expect(new Set(draw(1, 30, { temperature: 1.5, topK: 1 }))).toEqual(new Set([1]));
    expect(new Set(draw(1, 30, { temperature: 1.5, topP: 0.01 }))).toEqual(new Set([1]));
  });

  test("top-k limits the candidates to the k highest logits", () => {
    expect(new Set(draw(3, 200, { temperature: 5, topK: 2 }))).toEqual(new Set([1, 4]));
  });

  test("reports the log-probability under the raw distribution, whatever the temperature", () => {
    const r = sampleToken(logits, { temperature: 0.3, topK: 2 }, new Prng(1));
    expect(r.logprob).toBeCloseTo((logits.get(r.token) as number) - logZ, 12);
  });

  test("logSumExp is stable for large logits", () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 10);
    expect(logSumExp([])).toBe(-Infinity);
  });
});
