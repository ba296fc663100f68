// Prices and costs in integers: money in nano-credits (bigint), prices in nc per standard unit.
import type { Capabilities, JobSpec, LlmJobSpec, Units } from "@tessera/protocol";
import { llmStandardUnits, maxPromptTokens, measuredStandardUnits } from "./units.js";

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
  /** highest throughput among providers that may run it, SU/s (wasm jobs) */
  throughput?: number;
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
  return Math.max(1, Math.ceil((spec.limits.timeoutMs * (basis.throughput ?? 0)) / 1000));
}

/**
 * Why a result's metering cannot be right whatever the hardware, or undefined. An LLM result is
 * billed exactly 2 × parameters FLOPs per token it reports (the parameter count its node declared),
 * for no more input tokens than its prompt can become (promptTokenBound: one per UTF-8 byte, which
 * byte-fallback and byte-level tokenizers never pass, plus the template's; the escrow is sized by
 * the same bound) and no more output tokens than its cap; a WASM result at most (twice) its time
 * cap at the provider's own claimed throughput, and no more CPU time than has passed since its job
 * was submitted (a node cannot answer at once billing a run as long as the cap), with no tokens. Whether the token counts below those
 * bounds are the prompt's and the model's is for audits (the verifier tokenizes the prompt).
 */
export function meteringProblem(
  spec: JobSpec,
  units: Units,
  basis: {
    parameters?: number;
    throughput: number;
    /** WASM: milliseconds from the job's submit to its result, by the gateway's clock */
    elapsedMs?: number;
  },
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
  // twice the cap: the time inside `run` can pass the time cap by however late the outer timer fires
  const cap = 2 * maxStandardUnits(spec, { pricePerUnit: 0, throughput: basis.throughput });
  if (units.standardUnits > cap)
    return `standardUnits ${units.standardUnits} exceed twice the time cap at the node's throughput (${cap})`;
  if (basis.elapsedMs !== undefined) {
    const passed = elapsedStandardUnits(basis.elapsedMs, basis.throughput);
    if (units.standardUnits > passed)
      return `standardUnits ${units.standardUnits} exceed the ${basis.elapsedMs} ms since the job was submitted at the node's throughput (${passed})`;
  }
  return undefined;
}

/**
 * The most a WASM result can meter after `elapsedMs` of the gateway's clock: `run` starts after the
 * job was submitted and ends before its result arrives, so its CPU time is within that, as the node
 * measures it (measuredStandardUnits). The slack absorbs both clocks' millisecond truncation and
 * the drift between the node's monotonic clock and the gateway's wall clock.
 */
export function elapsedStandardUnits(elapsedMs: number, throughput: number): number {
  return measuredStandardUnits(Math.max(0, elapsedMs) * 1.01 + 10, throughput);
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
