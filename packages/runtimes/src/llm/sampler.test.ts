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

  test("sampling the top-k candidates with the vocabulary's normaliser draws what sampling the whole vocabulary draws", () => {
    const rng = new Prng(11);
    const vocab = new Map(Array.from({ length: 300 }, (_, id) => [id, rng.nextNormal() * 3] as [number, number]));
    const z = logSumExp([...vocab.values()]);
    for (const params of [
      { temperature: 0.8, topK: 40 },
      { temperature: 1.3, topK: 5, topP: 0.9 },
    ]) {
      // what llama.cpp hands over: the k best, best first
      const top = new Map([...vocab].sort((a, b) => b[1] - a[1]).slice(0, params.topK));
      const [a, b] = [new Prng(5), new Prng(5)];
      for (let i = 0; i < 200; i++) {
        const whole = sampleToken(vocab, params, a);
        const fromTop = sampleToken(top, params, b, z);
        expect(fromTop.token).toBe(whole.token);
        expect(fromTop.logprob).toBeCloseTo(whole.logprob, 12);
      }
    }
  });

  test("candidates out of order are put in order, ties to the lower token id", () => {
    const shuffled = new Map<number, number>([
      [9, 1],
      [2, 3],
      [7, 3],
      [4, 2],
    ]);
    const sorted = new Map<number, number>([
      [2, 3],
      [7, 3],
      [4, 2],
      [9, 1],
    ]);
    const z = logSumExp([1, 3, 3, 2]);
    const [a, b] = [new Prng(3), new Prng(3)];
    for (let i = 0; i < 100; i++)
      expect(sampleToken(shuffled, { temperature: 1 }, a, z).token).toBe(
        sampleToken(sorted, { temperature: 1 }, b, z).token,
      );
  });

  test("logSumExp is stable for large logits", () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 10);
    expect(logSumExp([])).toBe(-Infinity);
  });
});
