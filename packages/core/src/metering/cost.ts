// Prices and costs in integers: money in nano-credits (bigint), prices in nc per standard unit.
import type { Capabilities, JobSpec, LlmJobSpec, Units } from "@tessera/protocol";
import { fuelLimit, fuelStandardUnits, llmStandardUnits, maxPromptTokens } from "./units.js";

export function costOf(standardUnits: number, pricePerUnit: number): bigint {
  return BigInt(standardUnits) * BigInt(pricePerUnit);
}

/** What a result is billed: its metered cost, never more than the job escrowed. */
export function billedCost(standardUnits: number, pricePerUnit: number, escrowed: bigint): bigint {
  const billed = costOf(standardUnits, pricePerUnit);
  return billed < escrowed ? billed : escrowed;
}

/** The protocol's cut of a settled cost, in basis points, rounded down in the provider's favour. */
export function feeOf(cost: bigint, feeBps: number): bigint {
  return (cost * BigInt(feeBps)) / 10_000n;
}

/** The parameter count a node declared for a model it offers: what it may bill by (meteringProblem). */
export function declaredParameters(node: Pick<Capabilities, "models">, model: string): number | undefined {
  return node.models.find((m) => m.id === model)?.parameters;
}

export interface EscrowBasis {
  /** parameter count of the model (llm jobs) */
  parameters?: number;
  /** the highest price this job may be placed at */
  pricePerUnit: number;
}

/**
 * Bounds already computed, by spec object: the scheduler asks for each (queued job, node) pair
 * each round (mismatch "escrow") and the lease time cap at each lease, and a spec never changes.
 */
const tokenBounds = new WeakMap<LlmJobSpec, PromptBound>();

interface PromptBound {
  /** the most prompt tokens the input can become */
  tokens: number;
  /** of which the template's (BOS, the chat format) */
  overhead: number;
}

function promptBound(spec: LlmJobSpec): PromptBound {
  let bound = tokenBounds.get(spec);
  if (bound === undefined) {
    const text = "prompt" in spec.input ? spec.input.prompt : spec.input.messages.map((m) => m.content).join("\n");
    const overhead = "prompt" in spec.input ? 8 : 16 * spec.input.messages.length + 64;
    bound = { tokens: maxPromptTokens(text, overhead), overhead };
    tokenBounds.set(spec, bound);
  }
  return bound;
}

/** The most prompt tokens an LLM job's input can become, chat template included. */
export function promptTokenBound(spec: LlmJobSpec): number {
  return promptBound(spec).tokens;
}

/** Most standard units a job can be billed for: what escrow must cover before it may run. */
export function maxStandardUnits(spec: JobSpec, basis: EscrowBasis): number {
  if (spec.runtime === "llm")
    return llmStandardUnits(basis.parameters ?? 0, promptTokenBound(spec) + spec.limits.maxOutputTokens);
  return fuelStandardUnits(fuelLimit(spec.limits));
}

/**
 * Why a result's metering cannot be right whatever the hardware, or undefined. An LLM result is
 * billed exactly 2 × parameters FLOPs per token it reports (the parameter count its node declared),
 * for no more input tokens than its prompt can become (promptTokenBound: one per UTF-8 byte, which
 * byte-fallback and byte-level tokenizers never pass, plus the template's; the escrow is sized by
 * the same bound) and no more output tokens than its cap; a WASM result reports no tokens and no
 * more standard units than its fuel limit makes (the fuel it burned is exact, and a verifier's
 * re-run counts it again). Whether the counts below those bounds are right is for audits (the
 * verifier tokenizes the prompt, or re-runs the module).
 */
export function meteringProblem(
  spec: JobSpec,
  units: Units,
  /** outOfFuel: the WASM result says the job ran out of fuel, which bills exactly its limit */
  basis: { parameters?: number; outOfFuel?: boolean },
): string | undefined {
  if (spec.runtime === "llm") {
    if (units.outputTokens > spec.limits.maxOutputTokens) return "more output tokens than the job allows";
    const prompt = promptBound(spec);
    if (units.inputTokens > prompt.tokens)
      return `inputTokens ${units.inputTokens} exceed the most the prompt can be (${prompt.tokens}: one per byte of its ${prompt.tokens - prompt.overhead} bytes, and ${prompt.overhead} of template)`;
    const expected = llmStandardUnits(basis.parameters ?? 0, units.inputTokens + units.outputTokens);
    if (units.standardUnits !== expected)
      return `standardUnits ${units.standardUnits} is not 2 × parameters × tokens (${expected})`;
    return undefined;
  }
  if (units.inputTokens !== 0 || units.outputTokens !== 0) return "a wasm result reports tokens";
  const cap = maxStandardUnits(spec, { pricePerUnit: 0 });
  if (basis.outOfFuel && units.standardUnits !== cap)
    return `an out-of-fuel result bills its whole fuel limit of ${fuelLimit(spec.limits)} (${cap} standard units), not ${units.standardUnits}`;
  if (units.standardUnits > cap)
    return `standardUnits ${units.standardUnits} exceed what the job's fuel limit of ${fuelLimit(spec.limits)} makes (${cap})`;
  return undefined;
}

/**
 * What an LLM job stopped mid-stream is billed, metered as a completed one is (2 × parameters ×
 * (input + output tokens)): the prompt its lease evaluated, as the node counted it on its first
 * chunk (as a result's `inputTokens` is its node's count) but no more than the prompt's bound
 * (one token per byte, plus the template's), and the output tokens it streamed, no more than one
 * per byte of the text they spelled (every token spells at least one byte, but for the
 * end-of-generation one) nor the job's cap, so a node cannot bill tokens it never showed.
 */
export function streamedUnits(
  spec: LlmJobSpec,
  parameters: number,
  streamed: { tokens: number; bytes: number; promptTokens?: number },
): Units {
  const outputTokens = Math.min(streamed.tokens, streamed.bytes + 1, spec.limits.maxOutputTokens);
  const inputTokens = outputTokens > 0 ? Math.min(streamed.promptTokens ?? 0, promptTokenBound(spec)) : 0;
  return { inputTokens, outputTokens, standardUnits: llmStandardUnits(parameters, inputTokens + outputTokens) };
}

export function maxCost(spec: JobSpec, basis: EscrowBasis): bigint {
  return costOf(maxStandardUnits(spec, basis), basis.pricePerUnit);
}
