// Hard constraints: can this provider run this job at all, right now?
import type { JobClass, JobRecord } from "../job/types.js";
import { declaredParameters, maxCost } from "../metering/cost.js";
import { priceFor } from "./classes.js";
import type { ProviderView } from "./types.js";

export type Mismatch =
  | "offline"
  | "draining"
  | "runtime"
  | "model"
  | "region"
  | "price"
  | "escrow"
  | "reputation"
  | "stake"
  | "memory"
  | "full";

/**
 * Could this node bill more than the job escrowed? Its bill is capped at the escrow, so it would
 * be paid for less than its metered work: a node that came online after the submit, dearer than
 * the price the escrow was taken at, or (LLM) declaring a larger model. A WASM job's most billable
 * work is its fuel limit, the same on every node.
 */
function outgrowsEscrow(
  job: Pick<JobRecord, "spec"> & { jobClass?: JobClass; escrow?: bigint },
  caps: ProviderView["capabilities"],
): boolean {
  const spec = job.spec;
  if (job.escrow === undefined) return false;
  const most = maxCost(spec, {
    pricePerUnit: priceFor(caps, job.jobClass),
    parameters: spec.runtime === "llm" ? declaredParameters(caps, spec.model) : undefined,
  });
  return most > job.escrow;
}

/**
 * MiB of a node's WASM memory budget a job holds while it runs: a WASM job's memory limit (it may
 * grow to it), nothing for an LLM job.
 */
export function wasmMemoryOf(spec: JobRecord["spec"]): number {
  return spec.runtime === "wasm" ? spec.limits.maxMemoryMb : 0;
}

/**
 * MiB of a node's WASM memory budget a new WASM lease may have: what the memory limits of its
 * leased WASM jobs and of the WASM audits it reports in hand leave (a verifier's audits share the
 * budget, and one waiting for memory is ahead of any new lease there), never below 0 (audits
 * waiting may add up to more than the budget).
 */
export function wasmMemoryFreeMb(budgetMb: number, leasedMb: number, auditsMb = 0): number {
  return Math.max(0, budgetMb - leasedMb - auditsMb);
}

/**
 * Leases a provider may hold for this job's class: batch work may also fill the prefetch slots it
 * advertises, unless interactive work is waiting (then batch yields, as it does for free slots).
 */
export function leaseLimit(
  caps: ProviderView["capabilities"],
  jobClass?: JobClass,
  interactiveWaiting = false,
): number {
  return caps.maxConcurrency + (jobClass === "batch" && !interactiveWaiting ? (caps.prefetch ?? 0) : 0);
}

/**
 * Why this provider cannot take this job now, or null. `running`, `maxJobCost` and `memoryFreeMb`
 * default to the view's; a scheduling round passes what its own earlier assignments left of them.
 */
export function mismatch(
  job: Pick<JobRecord, "spec" | "constraints"> & { jobClass?: JobClass; escrow?: bigint },
  p: ProviderView,
  running = p.running,
  interactiveWaiting = false,
  maxJobCost = p.maxJobCost,
  memoryFreeMb = p.wasmMemoryFreeMb,
): Mismatch | null {
  if (!p.online) return "offline";
  if (p.draining) return "draining";
  const caps = p.capabilities;
  if (!caps.runtimes.includes(job.spec.runtime)) return "runtime";
  const spec = job.spec;
  if (spec.runtime === "llm" && !caps.models.some((m) => m.id === spec.model)) return "model";
  const c = job.constraints;
  if (c.regions && !c.regions.includes(caps.region)) return "region";
  if (c.maxPricePerUnit !== undefined && priceFor(caps, job.jobClass) > c.maxPricePerUnit) return "price";
  if (c.minReputation !== undefined && p.reputation < c.minReputation) return "reputation";
  // a job dearer than what its stake backs beside its other jobs in flight: the slash would be capped
  // below the multiple (or be nothing, the stake gone to an earlier one), and cheating pay
  if (maxJobCost !== undefined && job.escrow !== undefined && job.escrow > maxJobCost) return "stake";
  if (running >= leaseLimit(caps, job.jobClass, interactiveWaiting)) return "full";
  // a WASM job may grow to its limit: one that does not fit in what the node's running WASM jobs
  // leave of its budget would wait on the node, its lease's time cap running, behind them
  if (memoryFreeMb !== undefined && wasmMemoryOf(spec) > memoryFreeMb) return "memory";
  // last: the dearest check, and a node that is full needs none
  if (outgrowsEscrow(job, caps)) return "escrow";
  return null;
}

/** Could some provider in this set ever take the job (ignoring how busy they are)? */
export function anyCouldServe(
  job: Pick<JobRecord, "spec" | "constraints"> & { escrow?: bigint },
  providers: Iterable<ProviderView>,
): boolean {
  for (const p of providers) {
    const m = mismatch(job, p, 0, false, p.maxJobCost, p.capabilities.wasmMemoryMb);
    if (m === null) return true;
  }
  return false;
}

/**
 * Whether the market moved past a queued job: some node matches it in every way but its escrow,
 * and none fits (the node it was sized for left; every node online now bills more). What the
 * cheapest such node would need, or undefined when the job can be served as it is, or by no one.
 */
export function escrowShortfall(
  job: Pick<JobRecord, "spec" | "constraints" | "escrow"> & { jobClass?: JobClass },
  providers: Iterable<ProviderView>,
): bigint | undefined {
  const spec = job.spec;
  let need: bigint | undefined;
  for (const p of providers) {
    const m = mismatch(job, p, 0);
    if (m === null) return undefined;
    if (m !== "escrow") continue;
    const bill = maxCost(spec, {
      pricePerUnit: priceFor(p.capabilities, job.jobClass),
      parameters: spec.runtime === "llm" ? declaredParameters(p.capabilities, spec.model) : undefined,
    });
    if (need === undefined || bill < need) need = bill;
  }
  return need;
}

/**
 * Whether a queued job's deadline has passed at `now`: such a job is leased to no one, however
 * free the providers, and fails as one no provider could take before its deadline (a deadline of
 * 1 ms used to pass by the first round and the job was still leased, and run and billed).
 */
export function pastDeadline(job: { deadlineAt?: number | null }, now: number | undefined): boolean {
  return now !== undefined && job.deadlineAt !== undefined && job.deadlineAt !== null && job.deadlineAt <= now;
}
