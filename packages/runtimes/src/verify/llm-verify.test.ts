// Teacher-forced verification against real outputs of the tiny model: honest results pass even
// when the verifier runs with other threads and batch sizes; every kind of tampering fails.
import { type LlmJobSpec, type LlmOutput, type Units, VerdictReportSchema } from "@tessera/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TempModel, tempTinyModel } from "../gguf/testing.js";
import { createLlmRuntime, type LlmRuntime } from "../llm/index.js";
import { DEFAULT_LLM_TOLERANCES, llmTolerancesFor, QUANTIZED_LLM_TOLERANCES } from "./tolerances.js";

let tiny: TempModel;
let other: TempModel;
let producer: LlmRuntime; // generates, 1 thread, default batch
let verifier: LlmRuntime; // checks, 2 threads, batch 7 (prefill split differently)
let impostor: LlmRuntime; // a different model file (other seed) claiming to be the tiny one
let modelId: string;

beforeAll(async () => {
  tiny = await tempTinyModel();
  other = await tempTinyModel({ seed: 777 });
  producer = await createLlmRuntime({ modelPaths: [tiny.path], threads: 1 });
  verifier = await createLlmRuntime({ modelPaths: [tiny.path], threads: 2, batchSize: 7 });
  impostor = await createLlmRuntime({ modelPaths: [other.path], threads: 1 });
  modelId = producer.models()[0]?.id as string;
});
afterAll(async () => {
  for (const rt of [producer, verifier, impostor]) await rt?.close();
  await Promise.all([tiny?.cleanup(), other?.cleanup()]);
});

const ctx = () => ({ jobId: "j", attempt: 1, signal: new AbortController().signal });
function spec(prompt: string, params: Partial<LlmJobSpec["params"]> = {}, maxOutputTokens = 64): LlmJobSpec {
  return {
    runtime: "llm",
    model: modelId,
    input: { prompt },
    params: { temperature: 0, ...params },
    limits: { maxOutputTokens },
  };
}
async function run(rt: LlmRuntime, s: LlmJobSpec): Promise<{ output: LlmOutput; units: Units }> {
  const id = rt.models()[0]?.id as string;
  const r = await rt.execute({ ...s, model: id }, ctx());
  return { output: r.output, units: r.units };
}
const check = (s: LlmJobSpec, claim: { output: LlmOutput; units: Units }) =>
  verifier.verify(s, claim, { jobId: "j", signal: new AbortController().signal });

const prompts = ["The world is", "Once upon a time", "water and fire", "Tessera network"];
const sampled = { temperature: 0.9, topK: 40, topP: 0.95 };

describe("teacher-forced LLM verification", () => {
  test("passes honest greedy outputs computed with other threads and batch sizes, with margins recorded", async () => {
    for (const p of prompts) {
      const s = spec(p);
      const v = await check(s, await run(producer, s));
      expect(v.reasons).toEqual([]);
      expect(v.pass).toBe(true);
      expect(v.checks).toEqual(expect.arrayContaining(["metering", "text", "finish", "logprobs", "greedy"]));
      expect(v.metrics.maxGreedyGap).toBeLessThan(0.1);
      expect(v.metrics.maxLogprobDiff).toBeLessThan(0.1);
    }
  });

  test("passes honest seeded samples, with and without topK", async () => {
    for (const [i, p] of prompts.entries()) {
      for (const params of [
        { ...sampled, seed: i },
        { temperature: 1, seed: 100 + i },
      ]) {
        const s = spec(p, params);
        const v = await check(s, await run(producer, s));
        expect(v.reasons).toEqual([]);
        expect(v.checks).toContain("likelihood");
        expect(Math.abs(v.metrics.likelihoodZ as number)).toBeLessThan(5);
      }
    }
  });

  test("fails greedy output of a different model, with the margin it missed by", async () => {
    for (const p of prompts) {
      const s = spec(p);
      const v = await check(s, await run(impostor, s));
      expect(v.pass).toBe(false);
      expect(v.metrics.maxGreedyGap).toBeGreaterThan(0.5);
    }
  });

  test("fails sampled output of a different model", async () => {
    for (const [i, p] of prompts.entries()) {
      const s = spec(p, { ...sampled, seed: i });
      const v = await check(s, await run(impostor, s));
      expect(v.pass).toBe(false);
      expect(v.metrics.rankViolations).toBeGreaterThan(32); // most tokens are outside the real top 40
      expect(v.metrics.minLogprob).toBeLessThan(-25);
    }
  });

  test("fails a single token swapped for an unlikely one, and fabricated logprobs", async () => {
    const s = spec("The world is");
    const honest = await run(producer, s);
    const tokens = [...honest.output.tokens];
    tokens[10] = 300; // an arbitrary vocabulary token in place of the greedy one
    const swapped = await check(s, { ...honest, output: { ...honest.output, tokens, text: honest.output.text } });
    expect(swapped.pass).toBe(false);
    expect(swapped.metrics.tokensOverGap).toBeGreaterThanOrEqual(1);
    const logprobs = honest.output.logprobs.map((lp) => lp + 0.5);
    const lying = await check(s, { ...honest, output: { ...honest.output, logprobs } });
    expect(lying.pass).toBe(false);
    expect(lying.metrics.maxLogprobDiff).toBeGreaterThan(0.4);
  });

  test("fails random tokens and replayed answers to another prompt", async () => {
    const s = spec("The world is");
    const honest = await run(producer, s);
    let x = 12345;
    const random = honest.output.tokens.map(() => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return (x % 1000) + 300;
    });
    expect((await check(s, { ...honest, output: { ...honest.output, tokens: random } })).pass).toBe(false);
    const replay = await run(producer, spec("Once upon a time"));
    const v = await check(s, {
      output: replay.output,
      units: { ...replay.units, inputTokens: honest.units.inputTokens, standardUnits: honest.units.standardUnits },
    });
    expect(v.pass).toBe(false);
  });

  test("fails truncated outputs and inflated metering", async () => {
    const s = spec("The world is");
    const honest = await run(producer, s);
    expect(honest.output.finishReason).toBe("length");
    const cut = honest.output.tokens.slice(0, 20);
    const asStop = {
      ...honest.output,
      tokens: cut,
      logprobs: honest.output.logprobs.slice(0, 20),
      finishReason: "stop" as const,
    };
    const r1 = await check(s, { output: asStop, units: { ...honest.units, outputTokens: 20 } });
    expect(r1.pass).toBe(false);
    expect(r1.reasons.join(" ")).toMatch(/truncated/);
    const r2 = await check(s, {
      output: { ...asStop, finishReason: "length" },
      units: { ...honest.units, outputTokens: 20 },
    });
    expect(r2.reasons.join(" ")).toMatch(/truncated/);
    const inflated = await check(s, {
      ...honest,
      units: { ...honest.units, inputTokens: honest.units.inputTokens + 50 },
    });
    expect(inflated.pass).toBe(false);
    expect(inflated.reasons.join(" ")).toMatch(/input tokens/);
    const su = await check(s, { ...honest, units: { ...honest.units, standardUnits: honest.units.standardUnits * 3 } });
    expect(su.reasons.join(" ")).toMatch(/standard units/);
  });

  test("passes honest outputs cut at a stop string, one holding U+FFFD included, and fails tokens past the stop", async () => {
    const inputs = [...prompts.map((prompt) => ({ prompt })), { messages: [{ role: "user" as const, content: "Hi" }] }];
    const configs = [{}, ...[1, 2, 3].map((seed) => ({ temperature: 1, seed })), { temperature: 2, seed: 4 }];
    let cutAtOpenCharacter = 0;
    for (const input of inputs)
      for (const params of configs) {
        const full = await run(producer, { ...spec("", params, 24), input });
        const text = full.output.text;
        // a client's stop strings: a slice of the answer, and U+FFFD, which the tiny model's
        // byte tokens produce when a character's bytes prove invalid
        for (const stop of [text.slice(3, 7), "\uFFFD"]) {
          if (!stop || (stop === "\uFFFD" && !text.includes(stop))) continue;
          const s = { ...spec("", { ...params, stop: [stop] }, 24), input };
          const cut = await run(producer, s);
          expect(cut.output.finishReason).toBe("stop");
          expect(text.startsWith(cut.output.text)).toBe(true);
          expect(cut.output.text).not.toContain(stop);
          const v = await check(s, cut);
          expect(v.reasons).toEqual([]);
          if (stop === "\uFFFD" && cut.output.tokens.length > 1) cutAtOpenCharacter++;
        }
      }
    // decoding the tokens before the last settles an open character as U+FFFD, which matches such
    // a stop, though the honest run went on to the token that proved the character invalid
    expect(cutAtOpenCharacter).toBeGreaterThan(0);
    // the tokens that followed the stop, claimed under the cut text, are past where generation stops
    const s = spec("Once upon a time");
    const full = await run(producer, s);
    const stopped = { ...s, params: { ...s.params, stop: [full.output.text.slice(3, 7)] } };
    const cut = await run(producer, stopped);
    const n = cut.output.tokens.length + 2;
    const padded = {
      ...cut.output,
      tokens: full.output.tokens.slice(0, n),
      logprobs: full.output.logprobs.slice(0, n),
    };
    const v = await check(stopped, { output: padded, units: { ...cut.units, outputTokens: n } });
    expect(v.pass).toBe(false);
    expect(v.reasons.join(" ")).toMatch(/continue past the point where generation stops/);
  });

  test("refuses token ids outside the vocabulary without touching llama.cpp", async () => {
    const s = spec("The world is", {}, 4);
    const honest = await run(producer, s);
    const tokens = [...honest.output.tokens];
    tokens[1] = 10_000_000;
    const v = await check(s, { ...honest, output: { ...honest.output, tokens } });
    expect(v.pass).toBe(false);
    expect(v.reasons.join(" ")).toMatch(/vocabulary/);
  });
});

// Quantized weights: the batched pass re-quantizes activations that differ from generation's in the
// last float bits, so honest margins grow past the F32 tolerances; the verifier reads the weight
// types from the file and applies the quantized ones, which still leave a different model far out.
describe("teacher-forced LLM verification of a quantized (Q4_0) model", () => {
  let q4: TempModel;
  let q4Other: TempModel;
  let q4Producer: LlmRuntime;
  let q4Verifier: LlmRuntime; // batch 512: prompt + output in one pass, as `tessera provider --verify` runs
  let q4Impostor: LlmRuntime;
  let q4Id: string;
  beforeAll(async () => {
    q4 = await tempTinyModel({ weights: "q4_0" });
    q4Other = await tempTinyModel({ weights: "q4_0", seed: 777 });
    q4Producer = await createLlmRuntime({ modelPaths: [q4.path], threads: 1 });
    q4Verifier = await createLlmRuntime({ modelPaths: [q4.path], threads: 1, batchSize: 512 });
    q4Impostor = await createLlmRuntime({ modelPaths: [q4Other.path], threads: 1 });
    q4Id = q4Producer.models()[0]?.id as string;
  });
  afterAll(async () => {
    for (const rt of [q4Producer, q4Verifier, q4Impostor]) await rt?.close();
    await Promise.all([q4?.cleanup(), q4Other?.cleanup()]);
  });
  const q4Spec = (i: number): LlmJobSpec => ({
    runtime: "llm",
    model: q4Id,
    input: { prompt: `Prompt number ${i} about the world` },
    params: i % 2 ? { temperature: 0 } : { temperature: 0.8, topK: 40, seed: i },
    limits: { maxOutputTokens: 64 },
  });
  const q4Check = (s: LlmJobSpec, claim: { output: LlmOutput; units: Units }) =>
    q4Verifier.verify(s, claim, { jobId: "j", signal: new AbortController().signal });

  test("picks tolerances by the weights in the file", () => {
    const matrix = (ggmlType: number) => ({ ggmlType, dimensions: [128, 128] });
    const norm = { ggmlType: 0, dimensions: [128] };
    expect(llmTolerancesFor([matrix(0), norm])).toBe(DEFAULT_LLM_TOLERANCES);
    expect(llmTolerancesFor([matrix(1), matrix(30)])).toBe(DEFAULT_LLM_TOLERANCES); // F16, BF16
    expect(llmTolerancesFor([matrix(0), matrix(2), norm])).toBe(QUANTIZED_LLM_TOLERANCES); // one Q4_0
    expect(llmTolerancesFor([{ ggmlType: 8, dimensions: [128] }])).toBe(DEFAULT_LLM_TOLERANCES); // not a matrix
  });

  test("passes honest greedy and sampled outputs, recording the quantized tolerances applied", async () => {
    for (let i = 0; i < 16; i++) {
      const s = q4Spec(i);
      const v = await q4Check(s, await run(q4Producer, s));
      expect(v.reasons).toEqual([]);
      expect(v.metrics.logprobToleranceNats).toBe(QUANTIZED_LLM_TOLERANCES.logprobDiffNats);
      expect(v.metrics.greedyGapToleranceNats).toBe(QUANTIZED_LLM_TOLERANCES.greedyGapNats);
    }
  });

  test("fails a different model's greedy and sampled output by far more than the tolerance", async () => {
    for (let i = 0; i < 4; i++) {
      const s = q4Spec(i);
      const v = await q4Check(s, await run(q4Impostor, s));
      expect(v.pass).toBe(false);
      const missedBy = i % 2 ? (v.metrics.maxGreedyGap as number) : (v.metrics.maxLogprobDiff as number);
      expect(missedBy).toBeGreaterThan(5 * QUANTIZED_LLM_TOLERANCES.logprobDiffNats);
    }
  });
});

describe("teacher-forced LLM verification of generated claims", () => {
  // Honest greedy results with one to three fields changed to values the result schema still
  // takes (as the gateway checks it before an audit): any token id (out of the vocabulary too),
  // any logprob, other text, the other finish reason, tokens added or dropped, other units. The
  // verifier must answer every one with a report (never throw, never hand llama.cpp a token it
  // does not have), and fail every claim that differs in anything but a logprob within tolerance.
  const change = fc.oneof(
    fc.record({
      field: fc.constant("token" as const),
      at: fc.nat(),
      value: fc.oneof(fc.nat(), fc.nat(40), fc.constant(2 ** 31)),
    }),
    fc.record({
      field: fc.constant("logprob" as const),
      at: fc.nat(),
      value: fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
    }),
    fc.record({ field: fc.constant("text" as const), at: fc.nat(), value: fc.string({ maxLength: 3 }) }),
    fc.record({ field: fc.constant("finish" as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ field: fc.constant("drop" as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ field: fc.constant("add" as const), at: fc.nat(), value: fc.nat(300) }),
    fc.record({
      field: fc.constantFrom("inputTokens" as const, "outputTokens" as const, "standardUnits" as const),
      at: fc.nat(),
      value: fc.nat(10_000),
    }),
  );
  type Change = { field: string; at: number; value: number | string };
  const apply = (claim: { output: LlmOutput; units: Units }, changes: Change[]) => {
    const c = structuredClone(claim);
    const o = c.output;
    for (const { field, at, value } of changes) {
      const i = at % Math.max(1, o.tokens.length);
      if (field === "token" && o.tokens.length > 0) o.tokens[i] = value as number;
      else if (field === "logprob" && o.logprobs.length > 0) o.logprobs[i] = value as number;
      else if (field === "text")
        o.text = `${o.text.slice(0, at % (o.text.length + 1))}${value}${o.text.slice((at % (o.text.length + 1)) + 1)}`;
      else if (field === "finish") o.finishReason = o.finishReason === "stop" ? "length" : "stop";
      else if (field === "drop" && o.tokens.length > 0) {
        o.tokens.splice(i, 1);
        o.logprobs.splice(i, 1);
      } else if (field === "add") {
        o.tokens.splice(i, 0, value as number);
        o.logprobs.splice(i, 0, -1);
      } else if (field === "inputTokens" || field === "outputTokens" || field === "standardUnits")
        c.units[field] = value as number;
    }
    return c;
  };

  test("answers every claim with a report, and fails all that differ beyond a logprob's tolerance", async () => {
    const honest = await Promise.all(
      prompts.map(async (p) => {
        const s = spec(p, {}, 24);
        return { s, claim: await run(producer, s) };
      }),
    );
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(change, { minLength: 1, maxLength: 3 }), async (which, changes) => {
        const { s, claim } = honest[which % honest.length] as (typeof honest)[number];
        const tampered = apply(claim, changes);
        const v = await check(s, tampered);
        expect(VerdictReportSchema.safeParse(v).success).toBe(true);
        const logprobOnly = (a: typeof claim, b: typeof claim) =>
          JSON.stringify({ ...a.output, logprobs: [] }) === JSON.stringify({ ...b.output, logprobs: [] }) &&
          JSON.stringify(a.units) === JSON.stringify(b.units) &&
          a.output.logprobs.every(
            (x, i) => Math.abs(x - (b.output.logprobs[i] as number)) <= DEFAULT_LLM_TOLERANCES.logprobDiffNats,
          );
        if (!logprobOnly(claim, tampered)) {
          expect(v.pass).toBe(false);
          failed++;
        }
      }),
      {
        numRuns: Number(process.env.TESSERA_FUZZ_RUNS ?? 150),
        seed: Number(process.env.TESSERA_FUZZ_SEED ?? 20261207),
        endOnFailure: true,
      },
    );
    expect(failed).toBeGreaterThan(50);
    // and the verifier still passes the honest claims after all that
    for (const { s, claim } of honest) expect((await check(s, claim)).pass).toBe(true);
  }, 300_000);
});
