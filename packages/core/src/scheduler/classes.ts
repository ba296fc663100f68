// Job classes in scheduling: interactive work goes first and may preempt batch work; batch work
// runs at the provider's batch price and fills whatever capacity interactive work leaves idle.
import type { Capabilities } from "@tessera/protocol";
import type { JobClass, JobRecord } from "../job/types.js";
import { mismatch, pastDeadline, wasmMemoryOf } from "./match.js";
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
  consumerId: string;
  /** when its current lease began */
  leasedAt: number;
  /** a WASM job's memory limit, which its node's WASM memory budget gets back when it is taken back */
  memoryMb?: number;
}

export interface Preemption {
  jobId: string;
  providerId: string;
  /** the waiting interactive job the slot is freed for */
  forJobId: string;
}

export interface PreemptInput {
  /** interactive jobs still queued after a scheduling round (no free slot could take them) */
  waiting: (Pick<JobRecord, "id" | "consumerId" | "spec" | "constraints" | "createdAt"> & {
    jobClass?: JobClass;
    escrow?: bigint;
    deadlineAt?: number | null;
  })[];
  /** each with `running` counting every lease it holds now, this round's included */
  providers: ProviderView[];
  runningBatch: RunningBatchJob[];
  now: number;
  /** an interactive job must have waited this long before batch work is interrupted for it */
  afterMs: number;
  /** consumer id -> its jobs running now; with maxRunningPerConsumer, as the scheduler caps them */
  consumerRunning?: Map<string, number>;
  maxRunningPerConsumer?: number;
}

/**
 * Which running batch leases to take back so that interactive jobs that have waited too long
 * get a slot: enough per waiting job to free one slot on a provider that could run it (one, or
 * more where the provider also holds prefetched batch leases beyond its concurrency), the most
 * recently leased batch jobs first (they have the least work to lose; a prefetched one none).
 *
 * A waiting WASM job needs its memory limit free in the node's WASM memory budget too: batch jobs
 * are taken back (the most recent first) until their memory makes room for it, on a node short of
 * memory as on one short of a slot, and not at all where they could not.
 *
 * Only where the next round would then lease the waiting job: on a provider that is full (one
 * with a free slot did not take it, so something else holds it back), and for a consumer under
 * its concurrency cap, or at it only by taking back one of that consumer's own batch jobs.
 * Anything else frees a slot the batch job is leased straight back into, round after round.
 */
export function preemptions(input: PreemptInput): Preemption[] {
  const byProvider = new Map<string, RunningBatchJob[]>();
  for (const r of input.runningBatch) {
    const list = byProvider.get(r.providerId);
    if (list) list.push(r);
    else byProvider.set(r.providerId, [r]);
  }
  for (const list of byProvider.values()) list.sort((a, b) => b.leasedAt - a.leasedAt || (a.jobId < b.jobId ? -1 : 1));
  const running = new Map(input.providers.map((p) => [p.id, Math.max(p.running, byProvider.get(p.id)?.length ?? 0)]));
  const perConsumer = new Map(input.consumerRunning ?? []);
  const cap = input.maxRunningPerConsumer ?? Number.POSITIVE_INFINITY;
  // what each provider's WASM memory budget leaves, less what this call gave waiting jobs
  const memory = new Map<string, number>();
  const out: Preemption[] = [];
  for (const job of input.waiting) {
    // a job past its deadline will not be leased: nothing is taken back for it
    if (job.jobClass === "batch" || input.now - job.createdAt < input.afterMs || pastDeadline(job, input.now)) continue;
    const atCap = (perConsumer.get(job.consumerId) ?? 0) >= cap;
    const takeable = (r: RunningBatchJob) => !atCap || r.consumerId === job.consumerId;
    let best: { provider: ProviderView; taken: RunningBatchJob[]; freeMb: number | undefined } | undefined;
    for (const p of input.providers) {
      const held = running.get(p.id) ?? 0;
      // a WASM job needs its memory limit free in the node's budget as well as a slot: the batch
      // jobs taken back give both (taking back a slot alone leaves the job held back by memory)
      const freeMb = memory.get(p.id) ?? p.wasmMemoryFreeMb;
      const needMb = freeMb !== undefined ? wasmMemoryOf(job.spec) : 0;
      const slotsShort = Math.max(0, held - p.capabilities.maxConcurrency + 1);
      const memoryShort = Math.max(0, needMb - (freeMb ?? 0));
      // a provider with room for it did not take it: something else holds it back
      if (slotsShort === 0 && memoryShort === 0) continue;
      // whether it could run there at all once room is made: its whole budget, not what is free now
      if (mismatch(job, p, 0, false, p.maxJobCost, p.capabilities.wasmMemoryMb) !== null) continue;
      const list = byProvider.get(p.id) ?? [];
      const first = list.find(takeable);
      if (!first) continue;
      // the chosen job, then (for a provider over its concurrency by prefetched leases, or short of
      // memory) the next ones, the most recently leased first
      const taken = [first];
      let freed = first.memoryMb ?? 0;
      for (const r of list) {
        if (taken.length >= Math.max(1, slotsShort) && freed >= memoryShort) break;
        if (r === first) continue;
        taken.push(r);
        freed += r.memoryMb ?? 0;
      }
      if (freed < memoryShort) continue;
      if (!best || first.leasedAt > (best.taken[0] as RunningBatchJob).leasedAt)
        best = { provider: p, taken, freeMb: freeMb === undefined ? undefined : freeMb + freed - needMb };
    }
    if (!best) continue;
    const { provider, taken } = best;
    const list = byProvider.get(provider.id) ?? [];
    for (const r of taken) {
      list.splice(list.indexOf(r), 1);
      out.push({ jobId: r.jobId, providerId: r.providerId, forJobId: job.id });
      perConsumer.set(r.consumerId, (perConsumer.get(r.consumerId) ?? 0) - 1);
    }
    // the slot freed is the waiting job's now: it holds it as the batch job did, and its memory
    running.set(provider.id, (running.get(provider.id) ?? 0) - taken.length + 1);
    if (best.freeMb !== undefined) memory.set(provider.id, best.freeMb);
    perConsumer.set(job.consumerId, (perConsumer.get(job.consumerId) ?? 0) + 1);
  }
  return out;
}
