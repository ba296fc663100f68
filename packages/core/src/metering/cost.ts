// Prices and costs in integers: money in nano-credits (bigint), prices in nc per standard unit.
import type { JobSpec } from "@tessera/protocol";
import { llmStandardUnits, maxPromptTokens } from "./units.js";

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

export interface EscrowBasis {
  /** parameter count of the model (llm jobs) */
  parameters?: number;
  /** the highest price this job may be placed at */
  pricePerUnit: number;
  /** highest throughput among providers that may run it, SU/s (wasm jobs) */
  throughput?: number;
}

/** Most standard units a job can be billed for: what escrow must cover before it may run. */
export function maxStandardUnits(spec: JobSpec, basis: EscrowBasis): number {
  if (spec.runtime === "llm") {
    const text = "prompt" in spec.input ? spec.input.prompt : spec.input.messages.map((m) => m.content).join("\n");
    const overhead = "prompt" in spec.input ? 8 : 16 * spec.input.messages.length + 64;
    const tokens = maxPromptTokens(text, overhead) + spec.limits.maxOutputTokens;
    return llmStandardUnits(basis.parameters ?? 0, tokens);
  }
  return Math.max(1, Math.ceil((spec.limits.timeoutMs * (basis.throughput ?? 0)) / 1000));
}

export function maxCost(spec: JobSpec, basis: EscrowBasis): bigint {
  return costOf(maxStandardUnits(spec, basis), basis.pricePerUnit);
}
