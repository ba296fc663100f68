import type { JobSpec } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { meteringProblem, streamedUnits } from "./cost.js";
import { fuelLimit, fuelStandardUnits, llmStandardUnits } from "./units.js";

const llm: JobSpec = {
  runtime: "llm",
  model: "a".repeat(64),
  input: { prompt: "hello" },
  params: { temperature: 0 },
  limits: { maxOutputTokens: 16 },
};
const wasm: JobSpec = {
  runtime: "wasm",
  module: "b".repeat(64),
  input: { data: "" },
  limits: { timeoutMs: 1_000, maxMemoryMb: 64 },
};
const params = 1_000_000;

describe("meteringProblem", () => {
  it("accepts an LLM result billed at 2 × parameters × its tokens", () => {
    const units = { inputTokens: 5, outputTokens: 16, standardUnits: llmStandardUnits(params, 21) };
    expect(meteringProblem(llm, units, { parameters: params })).toBeUndefined();
  });

  it("refuses LLM standard units the tokens do not imply, and output past the cap", () => {
    const tokens = { inputTokens: 5, outputTokens: 1 };
    expect(meteringProblem(llm, { ...tokens, standardUnits: 196 }, { parameters: params })).toBe(
      `standardUnits 196 is not 2 × parameters × tokens (${llmStandardUnits(params, 6)})`,
    );
    const over = { inputTokens: 5, outputTokens: 17, standardUnits: llmStandardUnits(params, 22) };
    expect(meteringProblem(llm, over, { parameters: params })).toBe("more output tokens than the job allows");
  });

  it("refuses more LLM input tokens than the prompt can be: one per byte and the template's", () => {
    // "hello": 5 bytes and 8 of template (BOS, the tokenizer's leading space)
    const at = (inputTokens: number) => ({
      inputTokens,
      outputTokens: 1,
      standardUnits: llmStandardUnits(params, inputTokens + 1),
    });
    expect(meteringProblem(llm, at(13), { parameters: params })).toBeUndefined();
    expect(meteringProblem(llm, at(14), { parameters: params })).toBe(
      "inputTokens 14 exceed the most the prompt can be (13: one per byte of its 5 bytes, and 8 of template)",
    );
    // chat: 16 a message and 64 of template besides the contents' bytes (joined by newlines)
    const chat: JobSpec = { ...llm, input: { messages: [{ role: "user", content: "日本" }] } };
    expect(meteringProblem(chat, at(86), { parameters: params })).toBeUndefined();
    expect(meteringProblem(chat, at(87), { parameters: params })).toMatch(/^inputTokens 87 exceed/);
  });

  it("bounds a WASM result by what its fuel limit makes, without tokens", () => {
    const su = (standardUnits: number) => ({ inputTokens: 0, outputTokens: 0, standardUnits });
    // no maxFuel: 1 s of time cap at 3·10⁷ fuel per ms, 3·10¹⁰ fuel, 3,000 SU
    expect(fuelLimit(wasm.limits as { timeoutMs: number })).toBe(3e10);
    expect(meteringProblem(wasm, su(3_000), {})).toBeUndefined();
    expect(meteringProblem(wasm, su(3_001), {})).toBe(
      "standardUnits 3001 exceed what the job's fuel limit of 30000000000 makes (3000)",
    );
    // maxFuel 2.5 × 10⁷: 3 SU (a part SU is billed whole, as the runtime bills it)
    const capped: JobSpec = { ...wasm, limits: { timeoutMs: 1_000, maxMemoryMb: 64, maxFuel: 25_000_000 } };
    expect(fuelStandardUnits(25_000_000)).toBe(3);
    expect(meteringProblem(capped, su(3), {})).toBeUndefined();
    expect(meteringProblem(capped, su(4), {})).toMatch(/^standardUnits 4 exceed/);
    expect(meteringProblem(wasm, { inputTokens: 1, outputTokens: 0, standardUnits: 1 }, {})).toBe(
      "a wasm result reports tokens",
    );
  });

  it("holds a result that ran out of fuel to exactly its whole fuel limit", () => {
    const su = (standardUnits: number) => ({ inputTokens: 0, outputTokens: 0, standardUnits });
    const capped: JobSpec = { ...wasm, limits: { timeoutMs: 1_000, maxMemoryMb: 64, maxFuel: 25_000_000 } };
    expect(meteringProblem(capped, su(3), { outOfFuel: true })).toBeUndefined();
    // it burned the whole limit: billing less is as wrong as more (a verifier's re-run bills 3)
    expect(meteringProblem(capped, su(2), { outOfFuel: true })).toBe(
      "an out-of-fuel result bills its whole fuel limit of 25000000 (3 standard units), not 2",
    );
    expect(meteringProblem(capped, su(4), { outOfFuel: true })).toMatch(/^an out-of-fuel result bills/);
    expect(meteringProblem(wasm, su(3_000), { outOfFuel: true })).toBeUndefined();
  });
});

describe("streamedUnits", () => {
  const spec = llm as Extract<JobSpec, { runtime: "llm" }>;
  it("bills the tokens streamed, no more than one per byte of their text (and the end token) nor the cap", () => {
    expect(streamedUnits(spec, params, { tokens: 5, bytes: 20 })).toEqual({
      inputTokens: 0,
      outputTokens: 5,
      standardUnits: llmStandardUnits(params, 5),
    });
    expect(streamedUnits(spec, params, { tokens: 50, bytes: 3 }).outputTokens).toBe(4);
    expect(streamedUnits(spec, params, { tokens: 500, bytes: 5_000 }).outputTokens).toBe(16);
    expect(streamedUnits(spec, params, { tokens: 0, bytes: 0 }).standardUnits).toBe(0);
  });

  it("bills the prompt its node evaluated, as a completed job's, up to the prompt's bound", () => {
    // "hello": 5 bytes and 8 of template at most
    expect(streamedUnits(spec, params, { tokens: 5, bytes: 20, promptTokens: 3 })).toEqual({
      inputTokens: 3,
      outputTokens: 5,
      standardUnits: llmStandardUnits(params, 8),
    });
    expect(streamedUnits(spec, params, { tokens: 5, bytes: 20, promptTokens: 1_000 }).inputTokens).toBe(13);
    // nothing streamed: nothing billed
    expect(streamedUnits(spec, params, { tokens: 0, bytes: 0, promptTokens: 3 }).standardUnits).toBe(0);
  });
});
