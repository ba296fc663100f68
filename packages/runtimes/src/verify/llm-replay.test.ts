// Known-wrong verifier canaries made of real results (core's replayedKnownWrong): a result of one
// prompt, greedy or sampled, sent under its spec with the prompt of a greedy template whose known
// answer parts from it, must fail an honest verifier's teacher-forced check every time, while each
// result passes under its own spec. Real outputs of the tiny model; the verifier runs with other
// threads and batch size.
import { isTemplateCandidate, type ReplayResult, type ReplayTolerances, replayedKnownWrong } from "@tessera/core";
import { canonicalHash, type LlmJobSpec, type LlmParams } from "@tessera/protocol";
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

type LlmResult = ReplayResult & { spec: LlmJobSpec };

async function result(prompt: string, params: LlmParams, maxOutputTokens: number): Promise<LlmResult> {
  const spec: LlmJobSpec = {
    runtime: "llm",
    model: producer.models()[0]?.id as string,
    input: { prompt },
    params,
    limits: { maxOutputTokens },
  };
  const r = await producer.execute(spec, { jobId: "j", attempt: 1, signal: new AbortController().signal });
  return { spec, output: r.output, outputHash: canonicalHash(r.output), units: r.units };
}

describe("replayed known-wrong results", () => {
  test("fail an honest verifier under every template they are paired with, and pass under their own spec", async () => {
    const results: LlmResult[] = [];
    for (const [i, p] of PROMPTS.entries()) {
      results.push(await result(p, { temperature: 0 }, 24));
      results.push(await result(p, { temperature: 0.8, topK: 40, seed: 100 + i }, 16));
      results.push(await result(p, { temperature: 1.2, seed: 200 + i }, 20));
    }
    const check = (spec: LlmJobSpec, r: ReplayResult) =>
      verifier.verify(spec, { output: r.output, units: r.units }, { jobId: "j", signal: new AbortController().signal });
    // the tolerances the gateway reads from the verdicts on the model (their metrics record them)
    let tol: ReplayTolerances | undefined;
    for (const r of results) {
      const v = await check(r.spec, r);
      expect(v.pass, JSON.stringify(v.reasons)).toBe(true);
      tol = {
        logprobDiffNats: Math.max(tol?.logprobDiffNats ?? 0, v.metrics.logprobToleranceNats as number),
        greedyGapNats: Math.max(tol?.greedyGapNats ?? 0, v.metrics.greedyGapToleranceNats as number),
      };
    }
    const templates = results.filter((r) => isTemplateCandidate(r.spec));
    let recounted = 0;
    const sameCount = { greedy: 0, sampled: 0 };
    for (const r of results)
      for (const t of templates) {
        if (r === t) continue;
        const fit = replayedKnownWrong(r, t, tol);
        if (!fit) continue;
        // a few of those the metering recount alone fails, all of the others
        if (!fit.sameInputCount && recounted >= 12) continue;
        const v = await check(fit.spec as LlmJobSpec, r);
        expect(v.pass, `${JSON.stringify(r.spec)} under ${JSON.stringify(t.spec.input)}`).toBe(false);
        if (!fit.sameInputCount) {
          recounted++;
          continue;
        }
        // with the same prompt token count the metering recount passes: the logprob or greedy check fails it
        sameCount[r.spec.params.temperature === 0 ? "greedy" : "sampled"]++;
        expect(v.reasons.join(" ")).not.toMatch(/billed/);
        expect(v.reasons.join(" ")).toMatch(/greedy choice|logprob/);
      }
    // enough pairs, and enough with prompts of the same token count, for the test to mean something
    expect(recounted).toBe(12);
    expect(sameCount.greedy).toBeGreaterThanOrEqual(3);
    expect(sameCount.sampled).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
