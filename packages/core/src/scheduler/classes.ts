// Job classes in scheduling: interactive work goes first and may preempt batch work; batch work
// runs at the provider's batch price and fills whatever capacity interactive work leaves idle.
import type { Capabilities } from "@tessera/protocol";
import type { JobClass, JobRecord } from "../job/types.js";
import { mismatch } from "./match.js";
import type { ProviderView } from "./types.js";

/** The price a job of this class pays on a provider: batch work never pays more than interactive. */
export function priceFor(caps: Pick<Capabilities, "pricePerUnit" | "batchPricePerUnit">, jobClass?: JobClass): number {
  if (jobClass !== "batch" || caps.batchPricePerUnit === undefined) return caps.pricePerUnit;
  return Math.min(caps.batchPricePerUnit, caps.pricePerUnit);
}

/** Stable: interactive jobs first, each class keeping the order it came in. */
export function classOrder<J extends { jobClass?: JobClass }>(jobs: J[]): J[] {
  return [...jobs.filter((j) => j.jobClass !== "batch"), ...jobs.filter((j) => j.jobClass === "batch")];
}

export interface RunningBatchJob {
  jobId: string;
  providerId: string;
  /** when its current lease began */
  leasedAt: number;
}

export interface Preemption {
  jobId: string;
  providerId: string;
}

export interface PreemptInput {
  /** interactive jobs still queued after a scheduling round (no free slot could take them) */
  waiting: (Pick<JobRecord, "id" | "spec" | "constraints" | "createdAt"> & { jobClass?: JobClass })[];
  providers: ProviderView[];
  runningBatch: RunningBatchJob[];
  now: number;
  /** an interactive job must have waited this long before batch work is interrupted for it */
  afterMs: number;
}

/**
 * Which running batch leases to take back so that interactive jobs that have waited too long
 * get a slot: at most one per waiting job, on a provider that could run it, the most recently
 * leased batch job first (it has the least work to lose).
 */
export function preemptions(input: PreemptInput): Preemption[] {
  const byProvider = new Map<string, RunningBatchJob[]>();
  for (const r of input.runningBatch) {
    const list = byProvider.get(r.providerId);
    if (list) list.push(r);
    else byProvider.set(r.providerId, [r]);
  }
  for (const list of byProvider.values()) list.sort((a, b) => b.leasedAt - a.leasedAt || (a.jobId < b.jobId ? -1 : 1));
  const out: Preemption[] = [];
  for (const job of input.waiting) {
    if (job.jobClass === "batch" || input.now - job.createdAt < input.afterMs) continue;
    let best: RunningBatchJob | undefined;
    for (const p of input.providers) {
      if (mismatch(job, p, 0) !== null) continue;
      const candidate = byProvider.get(p.id)?.[0];
      if (candidate && (!best || candidate.leasedAt > best.leasedAt)) best = candidate;
    }
    if (!best) continue;
    byProvider.get(best.providerId)?.shift();
    out.push({ jobId: best.jobId, providerId: best.providerId });
  }
  return out;
}
