// The fast teacher-forced pass reaches into node-llama-cpp internals; these tests hold it to the
// numbers of the public path, position by position, and pin that the installed node-llama-cpp
// still has the shape it needs (an upgrade that breaks it fails here instead of slowing audits).
import type { LlmJobSpec } from "@tessera/protocol";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TempModel, tempTinyModel } from "../gguf/testing.js";
import { createLlmRuntime, type LlmRuntime } from "../llm/index.js";
import { prepareInput } from "../llm/input.js";
import type { PositionMeasure } from "./llm-checks.js";
import { forcePublic, nativeReadsAvailable, teacherForce } from "./teacher-force.js";

let tiny: TempModel;
let producer: LlmRuntime;
let verifier: LlmRuntime; // batch 7: the pass runs in several decodes, reads between them
let modelId: string;

beforeAll(async () => {
  tiny = await tempTinyModel();
  producer = await createLlmRuntime({ modelPaths: [tiny.path], threads: 1 });
  verifier = await createLlmRuntime({ modelPaths: [tiny.path], threads: 1, batchSize: 7 });
  modelId = producer.models()[0]?.id as string;
});
afterAll(async () => {
  for (const rt of [producer, verifier]) await rt?.close();
  await tiny?.cleanup();
});

const signal = () => new AbortController().signal;

async function claim(params: LlmJobSpec["params"], prompt: string) {
  const spec: LlmJobSpec = {
    runtime: "llm",
    model: modelId,
    input: { prompt },
    params,
    limits: { maxOutputTokens: 48 },
  };
  const r = await producer.execute(spec, { jobId: "j", attempt: 1, signal: signal() });
  return { spec, tokens: r.output.tokens as Token[] };
}

function expectSameNumbers(fast: PositionMeasure[], slow: PositionMeasure[]) {
  expect(fast.length).toBe(slow.length);
  for (const [k, f] of fast.entries()) {
    const s = slow[k] as PositionMeasure;
    expect(f.claimed).toBe(s.claimed);
    expect(f.claimedLogit).toBe(s.claimedLogit);
    expect(f.top).toEqual(s.top);
    // the normaliser is summed in another order (sorted vs vocabulary order): float rounding only
    expect(Math.abs(f.totalLogitWeight - s.totalLogitWeight) / s.totalLogitWeight).toBeLessThan(1e-5);
  }
}

describe("teacher-forced pass", () => {
  test("the installed node-llama-cpp takes the fast path", async () => {
    await verifier.withModel(modelId, async ({ sequence }) => {
      expect(nativeReadsAvailable(sequence)).toBe(true);
    });
  });

  test.each([
    ["greedy (argmax only)", { temperature: 0 }, 1],
    ["sampled (top 40)", { temperature: 0.9, topK: 40, seed: 3 }, 40],
  ] as const)("%s: the fast path reads what the public path reads", async (_, params, top) => {
    const { spec, tokens } = await claim(params, "Once upon a time");
    expect(tokens.length).toBeGreaterThan(7);
    await verifier.withModel(modelId, async ({ model, sequence }) => {
      const prompt = prepareInput(model, spec.input).tokens;
      const fast = await teacherForce(sequence, prompt, tokens, { top, signal: signal() });
      await sequence.clearHistory();
      const slow = await forcePublic(sequence, prompt, tokens, { top, signal: signal() });
      expectSameNumbers(fast, slow);
      expect(fast.every((m) => m.top.length === top)).toBe(true);
    });
  });

  test("an aborted pass rejects and leaves the model usable", async () => {
    const { spec, tokens } = await claim({ temperature: 0 }, "water and fire");
    await verifier.withModel(modelId, async ({ model, sequence }) => {
      const prompt = prepareInput(model, spec.input).tokens;
      const aborted = AbortSignal.abort();
      await expect(teacherForce(sequence, prompt, tokens, { top: 40, signal: aborted })).rejects.toThrow();
      const again = await teacherForce(sequence, prompt, tokens, { top: 1, signal: signal() });
      expect(again).toHaveLength(tokens.length);
      expect(again.every((m) => Number.isFinite(m.claimedLogit))).toBe(true);
    });
  });
});
