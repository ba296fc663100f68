import type { JobSpec, LlmOutput } from "@tessera/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CanaryPolicySchema,
  canaryDelayMs,
  canaryDraw,
  canaryStreams,
  corruptOutput,
  independentlyReproduced,
  isTemplateCandidate,
  judgeProviderCanary,
  judgeVerifierCanary,
  type ReplayResult,
  replayedKnownWrong,
} from "./canary.js";

const llm = (temperature: number) =>
  ({
    runtime: "llm",
    model: "m",
    input: { prompt: "p" },
    params: { temperature },
    limits: { maxOutputTokens: 8 },
  }) as unknown as JobSpec;
const wasm = { runtime: "wasm", module: "x", input: {} } as unknown as JobSpec;

describe("canaries", () => {
  it("uses only reproducible results as known answers: wasm and greedy llm", () => {
    expect(isTemplateCandidate(wasm)).toBe(true);
    expect(isTemplateCandidate(llm(0))).toBe(true);
    expect(isTemplateCandidate(llm(0.8))).toBe(false);
  });

  it("catches a wasm canary mismatch at once and sends an llm mismatch to audit", () => {
    expect(judgeProviderCanary(wasm, "a", "a")).toBe("passed");
    expect(judgeProviderCanary(wasm, "a", "b")).toBe("caught");
    expect(judgeProviderCanary(llm(0), "a", "a")).toBe("passed");
    expect(judgeProviderCanary(llm(0), "a", "b")).toBe("audit");
    expect(judgeProviderCanary(llm(0), "a", null)).toBe("audit");
  });

  it("catches a verifier that passes a known-wrong result and strikes one that fails a known-good one", () => {
    expect(judgeVerifierCanary(true, true)).toBe("caught");
    expect(judgeVerifierCanary(true, false)).toBe("correct");
    expect(judgeVerifierCanary(false, true)).toBe("correct");
    expect(judgeVerifierCanary(false, false)).toBe("strike");
  });

  it("strikes a verifier that answers a canary inconclusive, known-wrong or known-good, pass or fail", () => {
    for (const knownWrong of [true, false])
      for (const pass of [true, false]) expect(judgeVerifierCanary(knownWrong, pass, true)).toBe("strike");
  });

  it("makes a known-wrong result of the same shape that always differs from the right one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 31_999 }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (tokens, u) => {
          const out: LlmOutput = { text: "t", tokens, logprobs: tokens.map(() => -1), finishReason: "length" };
          const bad = corruptOutput(out, u) as LlmOutput;
          expect(bad.tokens).toHaveLength(tokens.length);
          expect(bad.tokens).not.toEqual(tokens);
          expect(bad.tokens.every((t) => t >= 0 && t <= 32_000)).toBe(true);
          expect(bad.text).toBe(out.text);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.base64String({ minLength: 4, maxLength: 64 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (data, u) => {
          const bad = corruptOutput({ data }, u) as { data: string };
          expect(bad.data).toHaveLength(data.length);
          expect(bad.data).not.toBe(data);
        },
      ),
    );
  });

  it("submits when the canary account can pay; otherwise funds a reserve from fees and submits nothing", () => {
    expect(canaryDraw(100n, 130n, 0n, 20)).toEqual({ submit: true });
    expect(canaryDraw(100n, 100n, 0n, 20)).toEqual({ submit: true });
    // 20 canaries' worth less what is there
    expect(canaryDraw(100n, 30n, 1_000_000n, 20)).toEqual({ submit: false, fund: 1_970n });
    // the fees hold less than the reserve but enough for this canary: all of them
    expect(canaryDraw(100n, 30n, 500n, 20)).toEqual({ submit: false, fund: 500n });
    expect(canaryDraw(100n, 30n, 70n, 20)).toEqual({ submit: false, fund: 70n });
    // not even this one
    expect(canaryDraw(100n, 30n, 69n, 20)).toBeNull();
    expect(canaryDraw(100n, 0n, 99n, 1)).toBeNull();
  });

  it("waits an exponential time before submitting a canary, with the configured mean", () => {
    expect(canaryDelayMs(5_000, 0)).toBe(0);
    expect(canaryDelayMs(0, 0.9)).toBe(0);
    expect(canaryDelayMs(5_000, 1 - Math.exp(-1))).toBe(5_000);
    const n = 20_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += canaryDelayMs(5_000, (i + 0.5) / n);
    expect(sum / n).toBeGreaterThan(4_900);
    expect(sum / n).toBeLessThan(5_100);
  });

  it("validates rates between 0 and 1", () => {
    expect(CanaryPolicySchema.parse({})).toMatchObject({ providerRate: 0.02, verifierRate: 0.05, reserve: 20 });
    expect(() => CanaryPolicySchema.parse({ reserve: 0 })).toThrow();
    expect(() => CanaryPolicySchema.parse({ providerRate: 1.5 })).toThrow();
    expect(() => CanaryPolicySchema.parse({ verifierRate: -0.1 })).toThrow();
  });
});

describe("streamed canaries", () => {
  it("stream at the share of real jobs streamed", () => {
    expect(canaryStreams(0, 0, 0)).toBe(false);
    expect(canaryStreams(0, 10, 0)).toBe(false);
    expect(canaryStreams(10, 10, 0.999)).toBe(true);
    expect(canaryStreams(3, 10, 0.29)).toBe(true);
    expect(canaryStreams(3, 10, 0.3)).toBe(false);
  });
});

describe("known-good results from canary jobs", () => {
  it("are only a canary answered byte for byte by another operator than the template's, whose operator is known", () => {
    expect(independentlyReproduced("passed", "op-a", "op-b")).toBe(true);
    // the same operator ran both: no second party produced it
    expect(independentlyReproduced("passed", "op-a", "op-a")).toBe(false);
    // open across a restart: the template's operator is not stored
    expect(independentlyReproduced("passed", undefined, "op-b")).toBe(false);
    expect(independentlyReproduced("audit", "op-a", "op-b")).toBe(false);
    expect(independentlyReproduced("caught", "op-a", "op-b")).toBe(false);
  });

  it("are not passed real audits unless asked for (auditedKnownGood)", () => {
    expect(CanaryPolicySchema.parse({}).auditedKnownGood).toBe(false);
  });
});

describe("replayed known-wrong canaries", () => {
  const units = (inputTokens: number) => ({ inputTokens, outputTokens: 3, standardUnits: 3 });
  const llmResult = (
    prompt: string,
    tokens: number[],
    logprobs: number[],
    inputTokens = 2,
    params = {},
  ): ReplayResult => {
    const output = { text: tokens.join(","), tokens, logprobs, finishReason: "length" } as LlmOutput;
    return {
      spec: { ...llm(0), input: { prompt }, params: { temperature: 0, ...params } } as JobSpec,
      output,
      outputHash: `h${tokens.join(",")}|${logprobs.join(",")}`,
      units: units(inputTokens),
    };
  };
  /** verifiers of an F32 model, and of a quantized one */
  const F32 = { logprobDiffNats: 0.1, greedyGapNats: 0.1 };
  const QUANTIZED = { logprobDiffNats: 1, greedyGapNats: 1 };
  const template = llmResult("hi", [1, 2, 3], [-0.01, -0.01, -0.01]);
  const parting = llmResult("yo", [1, 5, 6], [-1, -1, -1]);

  it("takes a greedy llm result whose tokens part from the template's where its greedy token led by more than the tolerance", () => {
    // sent under its own spec with the template's input: all the explorer shows of its job agrees
    expect(replayedKnownWrong(parting, template, F32)).toEqual({ spec: template.spec, sameInputCount: true });
    // the template's token had p ≈ 0.99 on the template's provider; a verifier of quantized weights may
    // read it 1 nat lower, where another token could come within its 1-nat greedy tolerance
    expect(replayedKnownWrong(parting, template, QUANTIZED)).toBeNull();
    // no verdict on the model read yet: its tolerances are unknown
    expect(replayedKnownWrong(parting, template)).toBeNull();
  });

  it("takes one whose claimed logprob where they part is more than the template's token leaves to any other", () => {
    // p = 0.6 for the template's token: another may trail it by little, but none has p above 0.4 + slack
    const tie = llmResult("hi", [1, 2, 3], [-0.01, Math.log(0.6), -0.01]);
    expect(replayedKnownWrong(parting, tie, F32)).toBeNull();
    const confident = llmResult("yo", [1, 5, 6], [-1, -0.05, -1]);
    expect(replayedKnownWrong(confident, tie, F32)?.sameInputCount).toBe(true);
  });

  it("takes any result whose prompt has more tokens than the template's: the metering recount fails it", () => {
    const other = llmResult("yo", [1, 2], [-1, -1], 3);
    expect(replayedKnownWrong(other, template)).toEqual({ spec: template.spec, sameInputCount: false });
    // a longer template prompt with this output might not fit the context: the check could not run
    expect(replayedKnownWrong(llmResult("yo", [1, 2], [-1, -1], 1), template)).toBeNull();
  });

  it("refuses a result an honest verifier might pass: no parting position both reach", () => {
    // a prefix of the template, or the template a prefix of it
    expect(replayedKnownWrong(llmResult("yo", [1, 2], [-1, -1]), template, F32)).toBeNull();
    expect(replayedKnownWrong(llmResult("yo", [1, 2, 3, 4], [-1, -1, -1, -1]), template, F32)).toBeNull();
    // the same tokens (other logprobs): another hash, yet nothing the greedy check fails
    expect(replayedKnownWrong(llmResult("yo", [1, 2, 3], [-1, -1, -1]), template, F32)).toBeNull();
  });

  it("takes an llm result of the same model whatever its params and limits: it goes out under them, with the template's input", () => {
    const longer = { ...parting, spec: { ...parting.spec, limits: { maxOutputTokens: 9 } } as JobSpec };
    expect(replayedKnownWrong(longer, template, F32)).toEqual({
      spec: { ...longer.spec, input: template.spec.input },
      sameInputCount: true,
    });
    const stops = llmResult("yo", [1, 5, 6], [-1, -1, -1], 2, { stop: ["x"] });
    expect(replayedKnownWrong(stops, template, F32)?.spec).toEqual({ ...stops.spec, input: { prompt: "hi" } });
    expect(
      replayedKnownWrong({ ...parting, spec: { ...parting.spec, model: "n" } as JobSpec }, template, F32),
    ).toBeNull();
    expect(replayedKnownWrong({ ...parting, spec: wasm }, template, F32)).toBeNull();
  });

  it("takes a sampled result only where its claimed logprob is more than the template's token leaves to any other: its verifier checks no greedy gap", () => {
    const sampled = (logprob: number) =>
      llmResult("yo", [1, 5, 6], [-1, logprob, -1], 2, { temperature: 0.8, topK: 40, seed: 7 });
    // the template's token had p ≈ 0.99, read at least e^-0.11 by an F32 verifier: any other at most
    // e^-2.26. A claimed e^-3 the logprob check may pass; a greedy result trails by 2.15 nats, a
    // sampled one has no greedy check
    const greedyLow = llmResult("yo", [1, 5, 6], [-1, -3, -1]);
    expect(replayedKnownWrong(greedyLow, template, F32)?.sameInputCount).toBe(true);
    expect(replayedKnownWrong(sampled(-3), template, F32)).toBeNull();
    expect(replayedKnownWrong(sampled(-1), template, F32)?.sameInputCount).toBe(true);
    // p = 0.6 for the template's token: another may have 0.46 as a verifier reads it
    const tie = llmResult("hi", [1, 2, 3], [-0.01, Math.log(0.6), -0.01]);
    expect(replayedKnownWrong(sampled(-1), tie, F32)).toBeNull();
    const fit = replayedKnownWrong(sampled(-0.05), tie, F32);
    expect(fit).toEqual({ spec: { ...sampled(-0.05).spec, input: { prompt: "hi" } }, sameInputCount: true });
    expect(replayedKnownWrong(sampled(-0.05), tie)).toBeNull();
    // another prompt token count: the recount fails it, sampled or not
    const counted = llmResult("yo", [4], [-3], 5, { temperature: 0.8, seed: 7 });
    expect(replayedKnownWrong(counted, template)?.sameInputCount).toBe(false);
  });

  it("takes a wasm result only under a template whose spec shows the same (module, limits), and never a result of an llm template", () => {
    const w = {
      spec: { ...wasm, input: { data: "AQ==" } } as JobSpec,
      output: { data: "AA==" },
      outputHash: "w",
      units: units(0),
    };
    expect(
      replayedKnownWrong(w, { ...w, spec: { ...w.spec, limits: { maxFuel: 9 } } as JobSpec, outputHash: "v" }),
    ).toBeNull();
    expect(replayedKnownWrong(w, template, F32)).toBeNull();
  });

  it("takes a wasm result with another output hash under the same module and limits, never the same hash", () => {
    const w = (data: string, hash: string): ReplayResult => ({
      spec: { ...wasm, input: { data } } as JobSpec,
      output: { data: "AA==" },
      outputHash: hash,
      units: units(0),
    });
    expect(replayedKnownWrong(w("AQ==", "h1"), w("Ag==", "h2"))).toEqual({
      spec: w("Ag==", "h2").spec,
      sameInputCount: true,
    });
    expect(replayedKnownWrong(w("AQ==", "h1"), w("Ag==", "h1"))).toBeNull();
  });
});
