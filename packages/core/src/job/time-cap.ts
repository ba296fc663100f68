// How long one lease may run, however faithfully its provider heartbeats. Heartbeats show that a
// node is alive, not that it is working: without a cap a node could hold a consumer's job (and
// its escrow) forever. The cap is generous (an honest node never meets it) and follows from what
// the job asks and what the node claims, so a node that claims more speed gets less time.
import type { Capabilities, JobSpec } from "@tessera/protocol";
import { declaredParameters, maxStandardUnits } from "../metering/cost.js";

/** Before its work starts a lease may fetch a module and its input and compile it. */
export const LEASE_SETUP_MS = 60_000;
/**
 * How many times slower than its claimed throughput an LLM node may run one job on a free slot.
 * The claim is a JavaScript matrix product; llama.cpp runs far faster than it on the same CPU
 * (1.44 M-parameter tiny model: about 3× here), so this is slack on top of slack.
 */
export const LLM_SLOWDOWN = 4;
/** An LLM node that declared no parameter count or throughput gets this long. */
export const FALLBACK_CAP_MS = 3_600_000;

type Node = Pick<Capabilities, "throughput" | "maxConcurrency" | "prefetch" | "models">;

/** Milliseconds from lease to result after which the lease is taken back. */
export function leaseTimeCapMs(spec: JobSpec, node: Node): number {
  // A node runs up to maxConcurrency jobs at once, which share its cores, and queues prefetched
  // batch leases behind them: a lease may wait for a slot, then run beside the others.
  const waits = 1 + Math.ceil((node.prefetch ?? 0) / node.maxConcurrency);
  if (spec.runtime === "wasm") return LEASE_SETUP_MS + 2 * spec.limits.timeoutMs * waits;
  const parameters = declaredParameters(node, spec.model);
  if (!parameters || !(node.throughput > 0)) return FALLBACK_CAP_MS;
  const units = maxStandardUnits(spec, { pricePerUnit: 0, parameters });
  const runMs = (1000 * units * LLM_SLOWDOWN * node.maxConcurrency) / node.throughput;
  return LEASE_SETUP_MS + Math.ceil(runMs * waits);
}
