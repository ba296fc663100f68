// Known-wrong verifier canaries made of real results (core's replayedKnownWrong): a greedy result
// of one prompt, sent under another prompt's spec whose known answer parts from it, must fail an
// honest verifier's teacher-forced check every time, while each result passes under its own spec.
// Real outputs of the tiny model; the verifier runs with other threads and batch size.
import { type ReplayResult, type ReplayTolerances, replayedKnownWrong } from "@tessera/core";
import { canonicalHash, type LlmJobSpec } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TempModel, tempTinyModel } from "../gguf/testing.js";
import { createLlmRuntime, type LlmRuntime } from "../llm/index.js";

let tiny: TempModel;
let producer: LlmRuntime;
let verifier: LlmRuntime;

beforeAll(async () => {
  tiny = await tempTinyModel();
  producer = await createLlmRuntime({ modelPaths: [tiny.path], threads: 1 });
  verifier = await createLlmRuntime({ modelPaths: [tiny.path], threads: 2, batchSize: 7 });
});
afterAll(async () => {
  for (const rt of [producer, verifier]) await rt?.close();
  await tiny?.cleanup();
});

const PROMPTS = [
  "The world is",
  "water and fire",
  "Tessera network",
  "zebra",
  // the tiny model is seldom sure of a token, but it is of the first after this one (p ≈ 0.94): a
  // template whose greedy token leads by more than the tolerance, for results of as many prompt tokens
  "Once upon a time",
  "Once upon a tide",
  "Once upon a mine",
  "Twice upon a tim",
  "Once under a sky",
  "Once upon a rime",
  "Here upon a time",
  "Once upon a lime",
];

async function result(prompt: string): Promise<ReplayResult & { spec: LlmJobSpec }> {
  const spec: LlmJobSpec = {
    runtime: "llm",
    model: producer.models()[0]?.id as string,
    input: { prompt },
    params: { temperature: 0 },
    limits: { maxOutputTokens: 24 },
  };
  const r = await producer.execute(spec, { jobId: "j", attempt: 1, signal: new AbortController().signal });
  return { spec, output: r.output, outputHash: canonicalHash(r.output), units: r.units };
}

describe("replayed known-wrong results", () => {
  test("fail an honest verifier under every template spec they are paired with, and pass under their own", async () => {
    const results: Array<ReplayResult & { spec: LlmJobSpec }> = [];
    for (const p of PROMPTS) results.push(await result(p));
    const check = (spec: LlmJobSpec, r: ReplayResult) =>
      verifier.verify(spec, { output: r.output, units: r.units }, { jobId: "j", signal: new AbortController().signal });
    // the tolerances the gateway reads from the verdicts on the model (their metrics record them)
    let tol: ReplayTolerances | undefined;
    for (const r of results) {
      const v = await check(r.spec, r);
      expect(v.pass).toBe(true);
      tol = {
        logprobDiffNats: Math.max(tol?.logprobDiffNats ?? 0, v.metrics.logprobToleranceNats as number),
        greedyGapNats: Math.max(tol?.greedyGapNats ?? 0, v.metrics.greedyGapToleranceNats as number),
      };
    }
    let pairs = 0;
    let sameCount = 0;
    for (const r of results)
      for (const t of results) {
        if (r === t) continue;
        const fit = replayedKnownWrong(r, t, tol);
        if (!fit) continue;
        // a few of those the metering recount alone fails, all of the others
        if (!fit.sameInputCount && pairs - sameCount >= 12) continue;
        pairs++;
        const v = await check(t.spec, r);
        expect(v.pass, `${JSON.stringify(r.spec.input)} under ${JSON.stringify(t.spec.input)}`).toBe(false);
        if (!fit.sameInputCount) continue;
        // with the same prompt token count the metering recount passes: the logprob or greedy check fails it
        sameCount++;
        expect(v.reasons.join(" ")).not.toMatch(/billed/);
        expect(v.reasons.join(" ")).toMatch(/greedy choice|logprob/);
      }
    // enough pairs, and enough with prompts of the same token count, for the test to mean something
    expect(pairs - sameCount).toBe(12);
    expect(sameCount).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
