// How much to escrow at submit: the most the job can cost at the dearest price it may be placed
// at. Unknown models are refused here (404) rather than queued forever.
import { maxCost } from "@tessera/core";
import { type Constraints, type JobSpec, type ModelInfo, NoCapacity, UnknownModel } from "@tessera/protocol";
import type { ProviderSession } from "./sessions.js";

export interface EscrowLevel {
  pricePerUnit: number;
  escrow: bigint;
}

/**
 * The prices a job may be escrowed at, dearest first, each with its escrow. A consumer's own
 * ceiling is the only one; otherwise every price an online node that could run the job asks,
 * so that a consumer who cannot cover the dearest can be held to one it can (engine.submit):
 * one node asking an absurd price must not make every submit a 402.
 */
export function escrowLevels(
  spec: JobSpec,
  constraints: Constraints,
  online: ProviderSession[],
  models: Map<string, { info: ModelInfo }>,
  /** the highest throughput a node offering wasm has advertised here, online or not */
  wasmThroughputSeen = 0,
): EscrowLevel[] {
  const offers = online.filter(
    (s) =>
      s.capabilities.runtimes.includes(spec.runtime) &&
      (spec.runtime !== "llm" || s.capabilities.models.some((m) => m.id === spec.model)),
  );
  let parameters: number | undefined;
  if (spec.runtime === "llm") {
    const model = models.get(spec.model);
    if (!model) throw new UnknownModel(spec.model);
    parameters = model.info.parameters;
  } else if (offers.length === 0 && constraints.maxPricePerUnit === undefined) {
    throw new NoCapacity("No provider offering the wasm runtime is online.");
  }
  if (spec.runtime === "llm" && constraints.maxPricePerUnit === undefined && offers.length === 0)
    throw new NoCapacity(
      `No provider serving model ${spec.model} is online; set constraints.maxPricePerUnit to queue it anyway.`,
    );
  // with no node online to size it, a queued wasm job is escrowed for the fastest node seen: the
  // scheduler leases a job only to a node whose bill it covers (core's mismatch "escrow")
  const throughput =
    offers.length > 0 ? offers.reduce((m, s) => Math.max(m, s.capabilities.throughput), 0) : wasmThroughputSeen;
  if (spec.runtime === "wasm" && throughput === 0)
    throw new NoCapacity("No provider offering the wasm runtime has connected to this gateway yet.");
  const prices =
    constraints.maxPricePerUnit !== undefined
      ? [constraints.maxPricePerUnit]
      : [...new Set(offers.map((s) => s.capabilities.pricePerUnit))].sort((a, b) => b - a);
  return prices.map((pricePerUnit) => ({
    pricePerUnit,
    escrow: maxCost(spec, { pricePerUnit, parameters, throughput }),
  }));
}

/** The escrow at the dearest level (what the job costs at most wherever it is placed). */
export function escrowFor(...args: Parameters<typeof escrowLevels>): bigint {
  return (escrowLevels(...args)[0] as EscrowLevel).escrow;
}
