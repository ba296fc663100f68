// How much to escrow at submit: the most the job can cost at the dearest price it may be placed
// at. Unknown models are refused here (404) rather than queued forever.
import { declaredParameters, maxCost, wasmMemoryOf } from "@tessera/core";
import {
  type Capabilities,
  type Constraints,
  type JobSpec,
  type ModelInfo,
  NoCapacity,
  UnknownModel,
} from "@tessera/protocol";
import type { ProviderSession } from "./sessions.js";

export interface EscrowLevel {
  pricePerUnit: number;
  escrow: bigint;
}

/**
 * The escrows a job may be taken at, dearest first, each with its price. A consumer's own ceiling
 * is the only price; otherwise each online node that could run the job gives one, at its price
 * and (LLM) for its own declared model size, so that a consumer who cannot cover the dearest can be
 * held to one it can (engine.submit): one node asking an absurd price, or declaring an absurd model
 * size, must not make every submit a 402. The table's first declaration sizes an LLM job only when
 * no node serving the model is online; a WASM job's size is its fuel limit wherever it runs.
 */
export function escrowLevels(
  spec: JobSpec,
  constraints: Constraints,
  online: ProviderSession[],
  models: Map<string, { info: ModelInfo }>,
): EscrowLevel[] {
  const runs = online.filter(
    (s) =>
      s.capabilities.runtimes.includes(spec.runtime) &&
      (spec.runtime !== "llm" || s.capabilities.models.some((m) => m.id === spec.model)),
  );
  // a WASM job is leased only where its memory limit fits in the node's WASM memory budget
  const needMb = wasmMemoryOf(spec);
  const offers = runs.filter((s) => needMb <= (s.capabilities.wasmMemoryMb ?? Number.POSITIVE_INFINITY));
  if (runs.length > 0 && offers.length === 0 && constraints.maxPricePerUnit === undefined) {
    const largest = runs.reduce((m, s) => Math.max(m, s.capabilities.wasmMemoryMb ?? 0), 0);
    throw new NoCapacity(
      `No provider online can give a WASM job ${needMb} MiB of memory (the largest WASM memory budget online is ${largest} MiB); lower limits.maxMemoryMb, or set constraints.maxPricePerUnit to queue it anyway.`,
    );
  }
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
  const size = (caps?: Capabilities) => ({
    parameters: (spec.runtime === "llm" && caps ? declaredParameters(caps, spec.model) : undefined) ?? parameters,
  });
  const ceiling = constraints.maxPricePerUnit;
  const within = ceiling === undefined ? offers : offers.filter((s) => s.capabilities.pricePerUnit <= ceiling);
  const levels = within.map((s) => {
    const pricePerUnit = ceiling ?? s.capabilities.pricePerUnit;
    return { pricePerUnit, escrow: maxCost(spec, { pricePerUnit, ...size(s.capabilities) }) };
  });
  // a ceiling with no node within it online: an LLM job sized by the table's declaration
  if (ceiling !== undefined && levels.length === 0)
    levels.push({ pricePerUnit: ceiling, escrow: maxCost(spec, { pricePerUnit: ceiling, ...size() }) });
  return levels
    .sort((a, b) => (a.escrow === b.escrow ? b.pricePerUnit - a.pricePerUnit : a.escrow > b.escrow ? -1 : 1))
    .filter((l, i, all) => i === 0 || l.escrow !== all[i - 1]?.escrow);
}

/** The escrow at the dearest level (what the job costs at most wherever it is placed). */
export function escrowFor(...args: Parameters<typeof escrowLevels>): bigint {
  return (escrowLevels(...args)[0] as EscrowLevel).escrow;
}
