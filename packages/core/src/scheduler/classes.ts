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
 * get a slot: enough per waiting job to free one slot on a provider that could run it (one, or
 * more where the provider also holds prefetched batch leases beyond its concurrency), the most
 * recently leased batch jobs first (they have the least work to lose; a prefetched one none).
 */
export function preemptions(input: PreemptInput): Preemption[] {
  const byProvider = new Map<string, RunningBatchJob[]>();
  for (const r of input.runningBatch) {
    const list = byProvider.get(r.providerId);
    if (list) list.push(r);
    else byProvider.set(r.providerId, [r]);
  }
  for (const list of byProvider.values()) list.sort((a, b) => b.leasedAt - a.leasedAt || (a.jobId < b.jobId ? -1 : 1));
  const running = new Map(input.providers.map((p) => [p.id, p.running]));
  const out: Preemption[] = [];
  for (const job of input.waiting) {
    if (job.jobClass === "batch" || input.now - job.createdAt < input.afterMs) continue;
    let best: RunningBatchJob | undefined;
    let bestProvider: ProviderView | undefined;
    for (const p of input.providers) {
      if (mismatch(job, p, 0) !== null) continue;
      const candidate = byProvider.get(p.id)?.[0];
      if (candidate && (!best || candidate.leasedAt > best.leasedAt)) {
        best = candidate;
        bestProvider = p;
      }
    }
    if (!best || !bestProvider) continue;
    const held = running.get(bestProvider.id) ?? 0;
    const list = byProvider.get(bestProvider.id) ?? [];
    const take = Math.min(list.length, Math.max(1, held - bestProvider.capabilities.maxConcurrency + 1));
    for (const r of list.splice(0, take)) out.push({ jobId: r.jobId, providerId: r.providerId });
    running.set(bestProvider.id, held - take);
  }
  return out;
}
