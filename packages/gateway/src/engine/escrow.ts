// How much to escrow at submit: the most the job can cost at the dearest price it may be
// placed at. Unknown models are refused here (404) rather than queued forever.
import { maxCost } from "@tessera/core";
import { type Constraints, type JobSpec, type ModelInfo, NoCapacity, UnknownModel } from "@tessera/protocol";
import type { ProviderSession } from "./sessions.js";

export function escrowFor(
  spec: JobSpec,
  constraints: Constraints,
  online: ProviderSession[],
  models: Map<string, { info: ModelInfo }>,
): bigint {
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
  const highest = offers.reduce((m, s) => Math.max(m, s.capabilities.pricePerUnit), 0);
  const pricePerUnit = constraints.maxPricePerUnit ?? (offers.length > 0 ? highest : 0);
  if (spec.runtime === "llm" && constraints.maxPricePerUnit === undefined && offers.length === 0)
    throw new NoCapacity(
      `No provider serving model ${spec.model} is online; set constraints.maxPricePerUnit to queue it anyway.`,
    );
  const throughput = offers.reduce((m, s) => Math.max(m, s.capabilities.throughput), 0);
  return maxCost(spec, { pricePerUnit, parameters, throughput });
}
