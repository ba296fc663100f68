// The overview's time series: every `intervalMs` the gateway samples the engine (providers,
// queue, running) and the store (jobs that ended since the last sample, their latency, tokens
// and money) into a ring buffer covering the last hour, and tells live listeners.
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { Engine } from "../engine/engine.js";

export interface Sample {
  t: number;
  providersOnline: number;
  queueDepth: number;
  running: number;
  jobsPerSec: number;
  failedPerSec: number;
  tokensPerSec: number;
  unitsPerSec: number;
  /** submit-to-result latency of the jobs completed in the interval; null when none */
  p50Ms: number | null;
  p99Ms: number | null;
  /** nano-credits per second paid by consumers, earned by providers */
  spendPerSec: number;
  earningsPerSec: number;
  /** audits decided in the interval: passed, and failed (the provider was slashed); null without verification */
  auditsPassed: number | null;
  auditsFailed: number | null;
}

export const SERIES = Object.freeze([
  "providersOnline",
  "queueDepth",
  "running",
  "jobsPerSec",
  "failedPerSec",
  "tokensPerSec",
  "unitsPerSec",
  "p50Ms",
  "p99Ms",
  "spendPerSec",
  "earningsPerSec",
  "auditsPassed",
  "auditsFailed",
] as const satisfies readonly (keyof Sample)[]);

/** Nearest-rank quantile of an ascending list. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}

/** Audit outcomes decided in a window (passed, and failed: slashed); null when audits are not recorded. */
export type AuditCounter = (from: number, to: number) => Promise<{ passed: number; failed: number } | null>;

/** The counter over the store's audit records: audits of providers' results decided in (from, to]. */
export function storeAuditCounter(store: Store): AuditCounter {
  return (from, to) => store.verification.auditOutcomes(from, to);
}

export class Sampler {
  private readonly ring: Sample[] = [];
  private readonly capacity: number;
  private readonly listeners = new Set<(s: Sample) => void>();
  private timer: NodeJS.Timeout | undefined;
  private last: number;
  private busy = false;

  constructor(
    private readonly deps: { engine: Engine; store: Store; log: Logger; audits?: AuditCounter },
    readonly intervalMs: number,
    readonly windowMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {
    this.capacity = Math.max(1, Math.ceil(windowMs / intervalMs));
    this.last = this.now();
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
  }

  samples(): Sample[] {
    return [...this.ring];
  }

  onSample(listener: (s: Sample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async tick(): Promise<Sample | undefined> {
    if (this.busy) return undefined; // a slow store skips a beat rather than piling up queries
    this.busy = true;
    try {
      const to = this.now();
      const from = this.last;
      const secs = Math.max(0.001, (to - from) / 1000);
      const [w, audits] = await Promise.all([
        this.deps.store.explorer.finishedWindow(from, to),
        this.deps.audits ? this.deps.audits(from, to) : Promise.resolve(null),
      ]);
      this.last = to;
      const lat = w.latenciesMs.sort((a, b) => a - b);
      const { engine } = this.deps;
      const s: Sample = {
        t: to,
        providersOnline: engine.onlineSessions().length,
        queueDepth: engine.queueDepth,
        running: engine.runningCount,
        jobsPerSec: w.completed / secs,
        failedPerSec: w.failed / secs,
        tokensPerSec: w.outputTokens / secs,
        unitsPerSec: w.standardUnits / secs,
        p50Ms: quantile(lat, 0.5),
        p99Ms: quantile(lat, 0.99),
        spendPerSec: Number(w.spend) / secs,
        earningsPerSec: Number(w.earnings) / secs,
        auditsPassed: audits ? audits.passed : null,
        auditsFailed: audits ? audits.failed : null,
      };
      this.ring.push(s);
      if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
      for (const l of this.listeners) l(s);
      return s;
    } catch (err) {
      this.deps.log.warn({ err }, "explorer sample failed");
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
