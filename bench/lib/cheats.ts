// Cheating strategies, as output transformations of an honest result: the same ones the
// adversarial provider of the tests applies (test/helpers/adversary.ts), reimplemented here so
// the benches import no test code. Each takes the honest result of a job (what the cheater would
// have produced had it done the work) and returns what the cheater claims instead.
import { join } from "node:path";
import type { LlmJobSpec, LlmOutput, Units } from "@tessera/protocol";
import { type LlmRuntime, llmStandardUnits, makeTinyModel, type WeightType } from "@tessera/runtimes";
import { openRuntime, type RuntimeSetup } from "./llm-mix.js";

export interface Claim {
  output: LlmOutput;
  units: Units;
}

export const STRATEGIES = ["random", "smaller-model", "truncate", "inflate", "replay"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const WHAT: Record<Strategy, string> = {
  random: "random token ids (300–1299) in place of the output, logprobs −3, text and metering kept",
  "smaller-model":
    "the output of a cheaper model (the tiny model with another seed and 2 blocks instead of 4), billed as the real one",
  truncate: "the first half of the tokens, finish reason stop, billed for what is returned",
  inflate: "the honest output, 100 input tokens more billed",
  replay: "the output of another prompt's job, billed for its tokens",
};

/** The cheaper model a smaller-model cheater runs: another seed, half the blocks. */
export async function openImpostor(dir: string, setup: RuntimeSetup, weights: WeightType = "f32"): Promise<LlmRuntime> {
  const path = await makeTinyModel(join(dir, "impostor.gguf"), { seed: 4242, blockCount: 2, weights });
  return openRuntime(path, setup);
}

export class Cheater {
  private last: LlmOutput | undefined;

  constructor(
    private readonly parameters: number,
    private readonly rand: () => number,
    private readonly impostor?: LlmRuntime,
  ) {}

  /** Remembers an honest output, for the replay strategy's next job. */
  saw(output: LlmOutput): void {
    this.last = output;
  }

  private units(r: Claim, inputTokens: number, outputTokens: number): Units {
    return {
      ...r.units,
      inputTokens,
      outputTokens,
      standardUnits: llmStandardUnits(this.parameters, inputTokens + outputTokens),
    };
  }

  async claim(strategy: Strategy, spec: LlmJobSpec, honest: Claim, signal: AbortSignal): Promise<Claim> {
    const out = honest.output;
    switch (strategy) {
      case "random": {
        const tokens = out.tokens.map(() => 300 + Math.floor(this.rand() * 1000));
        return { output: { ...out, tokens, logprobs: tokens.map(() => -3) }, units: honest.units };
      }
      case "smaller-model": {
        if (!this.impostor) throw new Error("smaller-model needs the impostor runtime");
        const model = this.impostor.models()[0]?.id as string;
        const r = await this.impostor.execute({ ...spec, model }, { jobId: "cheat", attempt: 1, signal });
        return { output: r.output, units: this.units(r, r.units.inputTokens, r.units.outputTokens) };
      }
      case "truncate": {
        const n = Math.max(1, Math.floor(out.tokens.length / 2));
        const output = {
          ...out,
          tokens: out.tokens.slice(0, n),
          logprobs: out.logprobs.slice(0, n),
          finishReason: "stop" as const,
        };
        return { output, units: this.units(honest, honest.units.inputTokens, n) };
      }
      case "inflate":
        return { output: out, units: this.units(honest, honest.units.inputTokens + 100, out.tokens.length) };
      case "replay": {
        const o = this.last ?? out;
        return { output: o, units: this.units(honest, honest.units.inputTokens, o.tokens.length) };
      }
    }
  }
}

/** Is the claim exactly the honest result (a cheat that changed nothing)? */
export function sameAsHonest(a: Claim, b: Claim): boolean {
  return (
    a.output.text === b.output.text &&
    a.output.finishReason === b.output.finishReason &&
    a.output.tokens.length === b.output.tokens.length &&
    a.output.tokens.every((t, i) => t === b.output.tokens[i]) &&
    a.units.inputTokens === b.units.inputTokens &&
    a.units.outputTokens === b.units.outputTokens &&
    a.units.standardUnits === b.units.standardUnits
  );
}

/** Which check a verdict's reason line comes from (llm-verify.ts / llm-checks.ts wording). */
export function reasonCheck(reason: string): string {
  if (/outside the vocabulary/.test(reason)) return "vocab";
  if (/^billed|more output tokens/.test(reason)) return "metering";
  if (/text is not what/.test(reason)) return "text";
  if (/finishReason|continue past/.test(reason)) return "finish";
  if (/reported logprob/.test(reason)) return "logprobs";
  if (/greedy choice/.test(reason)) return "greedy";
  if (/below the floor/.test(reason)) return "floor";
  if (/outside the top/.test(reason)) return "topK";
  if (/likelihood z-score/.test(reason)) return "likelihood";
  return "other";
}
