// One scheduling round: hand queued jobs to providers with free capacity. Fair between
// consumers (round-robin over consumers, least recently served first; FIFO within one), never
// over-committing a provider, and preferring providers a job has not already failed on.
import type { JobClass, JobRecord } from "../job/types.js";
import { classOrder, priceFor } from "./classes.js";
import { leaseLimit, mismatch, pastDeadline, wasmMemoryOf } from "./match.js";
import { DEFAULT_WEIGHTS, type ScoreWeights, scoreProvider } from "./score.js";
import type { ProviderView } from "./types.js";

export interface Assignment {
  jobId: string;
  providerId: string;
  pricePerUnit: number;
}

export interface ScheduleInput {
  /** queued jobs, oldest first */
  queued: (Pick<JobRecord, "id" | "consumerId" | "spec" | "constraints" | "triedProviders"> & {
    jobClass?: JobClass;
    /** what the job escrowed: it draws that much of a staked provider's maxJobCost */
    escrow?: bigint;
    /** when the job must have started by; a job past it is leased to no one (it fails as expired) */
    deadlineAt?: number | null;
  })[];
  providers: ProviderView[];
  /** consumer id -> last time one of its jobs was assigned; absent means never */
  lastServed?: Map<string, number>;
  weights?: ScoreWeights;
  /** consumer id -> its jobs running now; with maxRunningPerConsumer, a consumer at the cap gets no lease */
  consumerRunning?: Map<string, number>;
  maxRunningPerConsumer?: number;
  /** the time of the round, against which deadlines are read; without it no deadline is checked */
  now?: number;
}

function fairOrder<J extends { consumerId: string }>(queued: J[], lastServed: Map<string, number>): J[] {
  const byConsumer = new Map<string, J[]>();
  for (const j of queued) {
    const list = byConsumer.get(j.consumerId);
    if (list) list.push(j);
    else byConsumer.set(j.consumerId, [j]);
  }
  const consumers = [...byConsumer.keys()].sort(
    (a, b) => (lastServed.get(a) ?? Number.NEGATIVE_INFINITY) - (lastServed.get(b) ?? Number.NEGATIVE_INFINITY),
  );
  const out: J[] = [];
  for (let round = 0; out.length < queued.length; round++) {
    for (const c of consumers) {
      const j = byConsumer.get(c)?.[round];
      if (j) out.push(j);
    }
  }
  return out;
}

export function schedule(input: ScheduleInput): Assignment[] {
  const running = new Map(input.providers.map((p) => [p.id, p.running]));
  // what a staked provider's stake still backs after this round's earlier assignments to it: one
  // stake backs every job it holds, so each job leased draws its escrow off the next one's cap
  const backs = new Map<string, bigint>();
  const capOf = (p: ProviderView) => backs.get(p.id) ?? p.maxJobCost;
  // what a provider's WASM memory budget leaves after this round's earlier WASM assignments to it
  const memory = new Map<string, number>();
  const memoryOf = (p: ProviderView) => memory.get(p.id) ?? p.wasmMemoryFreeMb;
  const weights = input.weights ?? DEFAULT_WEIGHTS;
  const assignments: Assignment[] = [];
  // batch work fills prefetch slots only while no interactive job waits (it yields to interactive)
  const interactiveWaiting = input.queued.some((j) => j.jobClass !== "batch");
  let free = input.providers.reduce(
    (n, p) => n + Math.max(0, leaseLimit(p.capabilities, "batch", interactiveWaiting) - p.running),
    0,
  );
  // the common case under a full batch: every slot busy, so ordering the queue would be wasted
  if (free <= 0) return [];

  const perConsumer = new Map(input.consumerRunning ?? []);
  const cap = input.maxRunningPerConsumer ?? Number.POSITIVE_INFINITY;
  // interactive work first; within a class, consumers take turns
  for (const job of classOrder(fairOrder(input.queued, input.lastServed ?? new Map()))) {
    if (free <= 0) break;
    if ((perConsumer.get(job.consumerId) ?? 0) >= cap || pastDeadline(job, input.now)) continue;
    const candidates = input.providers.filter(
      (p) => mismatch(job, p, running.get(p.id) ?? 0, interactiveWaiting, capOf(p), memoryOf(p)) === null,
    );
    if (candidates.length === 0) continue;
    const fresh = candidates.filter((p) => !job.triedProviders.includes(p.id));
    const pool = fresh.length > 0 ? fresh : candidates;
    // a loop, not Math.min(...pool): spreading a pool of ~125k providers overflows the stack
    const ctx = {
      minPrice: Number.POSITIVE_INFINITY,
      maxPrice: Number.NEGATIVE_INFINITY,
      bestLatencyMs: null as number | null,
    };
    // scored by what this job would pay on each, so batch work goes to the cheapest batch price
    const prices = new Map(pool.map((p) => [p.id, priceFor(p.capabilities, job.jobClass)]));
    for (const p of pool) {
      const price = prices.get(p.id) as number;
      ctx.minPrice = Math.min(ctx.minPrice, price);
      ctx.maxPrice = Math.max(ctx.maxPrice, price);
      if (p.latencyMs !== null) ctx.bestLatencyMs = Math.min(ctx.bestLatencyMs ?? p.latencyMs, p.latencyMs);
    }
    let best = pool[0]!;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const p of pool) {
      const s = scoreProvider(p, running.get(p.id) ?? 0, ctx, weights, prices.get(p.id));
      if (s < bestScore || (s === bestScore && p.id < best.id)) {
        best = p;
        bestScore = s;
      }
    }
    running.set(best.id, (running.get(best.id) ?? 0) + 1);
    const left = capOf(best);
    if (left !== undefined && job.escrow !== undefined) backs.set(best.id, left - job.escrow);
    const mem = memoryOf(best);
    if (mem !== undefined) memory.set(best.id, mem - wasmMemoryOf(job.spec));
    perConsumer.set(job.consumerId, (perConsumer.get(job.consumerId) ?? 0) + 1);
    free--;
    assignments.push({ jobId: job.id, providerId: best.id, pricePerUnit: prices.get(best.id) as number });
  }
  return assignments;
}
