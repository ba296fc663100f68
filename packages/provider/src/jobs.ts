// Runs leased jobs on the runtimes and turns their outcomes into wire messages. Results stay
// in an outbox until the gateway acks them, so a result finished during a dropped connection
// (or sent just before one) is delivered after the reconnect.
import { billedCost, ranOutOfFuel, trapOf } from "@tessera/core";
import {
  canonicalHash,
  type Identity,
  type JobSpec,
  type LeaseEvidence,
  type LeaseMessage,
  type ProviderMessage,
  type ResultMessage,
  ResultMsg,
  type RuntimeName,
  signResult,
} from "@tessera/protocol";
import { JobFault, type Runtime } from "@tessera/runtimes";
import type { Logger } from "pino";
import type { EvidenceContext } from "./evidence.js";
import type { ProviderRuntimes } from "./runtimes.js";
import type { WasmMemoryBudget } from "./wasm-memory.js";
import {
  type AckMessage,
  type CancelMessage,
  type ChunkMessage,
  type FailureMessage,
  GATEWAY_MAX_FRAME_BYTES,
} from "./wire.js";

export interface RunningRef {
  jobId: string;
  attempt: number;
}

export interface JobRunnerOptions {
  identity: Identity;
  runtimes: ProviderRuntimes;
  /** runtimes advertised to the gateway */
  offered: readonly RuntimeName[];
  /** content ids of the models advertised */
  modelIds: ReadonlySet<string>;
  /** leases held at once: the runtimes' slots plus prefetched batch leases waiting for one */
  concurrency: number;
  log: Logger;
  /** true when the message went out on a live, authenticated connection */
  send(msg: ProviderMessage): boolean;
  /** on-chain settlement: sign each result as EIP-712 evidence too (evidence.ts) */
  evidence?: EvidenceContext;
  /** largest result frame the gateway takes; default GATEWAY_MAX_FRAME_BYTES */
  maxFrameBytes?: number;
  /** the provider-wide WASM memory budget each WASM job reserves its memory limit from; none when absent */
  wasmMemory?: WasmMemoryBudget;
}

export interface JobStats {
  running: number;
  /** most jobs ever running at once */
  peakRunning: number;
  leases: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** leases answered with a failure without running (capacity, draining, not offered) */
  refused: number;
  accepted: number;
  rejected: number;
  /** interruptible leases given back unfinished */
  released: number;
  /** results awaiting an ack, and failures and releases awaiting a connection */
  outbox: number;
  /** leased WASM jobs waiting for the WASM memory budget to free (counted in running too) */
  waitingForMemory: number;
}

interface RunningJob {
  jobId: string;
  attempt: number;
  controller: AbortController;
  log: Logger;
  /** a batch lease the provider may give back */
  interruptible: boolean;
  /** send chunk frames (the gateway says whether anyone watches the tokens) */
  stream: boolean;
  /** the lease's cost basis for the EIP-712 Result (on-chain settlement) */
  evidence: LeaseEvidence | undefined;
  /** leased, waiting for the WASM memory budget before it runs */
  waitingForMemory: boolean;
}

type ReleaseMessage = Extract<ProviderMessage, { type: "release" }>;
/** Results stay until acked; failures and releases until sent on an authenticated session. */
type OutboxMessage = ResultMessage | FailureMessage | ReleaseMessage;

const MAX_REASON = 2000;

export function jobKey(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

export class JobRunner {
  private readonly running = new Map<string, RunningJob>();
  private readonly outbox = new Map<string, OutboxMessage>();
  private readonly idleWaiters: Array<() => void> = [];
  private draining = false;
  /** the owner wants the machine: batch leases are given back, interactive ones still run */
  private paused = false;
  private stopped = false;
  private readonly counts = {
    peakRunning: 0,
    leases: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    refused: 0,
    accepted: 0,
    rejected: 0,
    released: 0,
  };

  constructor(private readonly options: JobRunnerOptions) {}

  /** Jobs executing now, for heartbeats. */
  runningJobs(): RunningRef[] {
    return [...this.running.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
  }

  /** Whether the gateway waits on this node: a lease it still holds, or a message not yet acked. */
  holdsWork(): boolean {
    return this.outbox.size > 0 || this.holding() > 0;
  }

  stats(): JobStats {
    let waitingForMemory = 0;
    for (const job of this.running.values()) if (job.waitingForMemory) waitingForMemory++;
    return { ...this.counts, running: this.running.size, outbox: this.outbox.size, waitingForMemory };
  }

  handleLease(msg: LeaseMessage): void {
    const { jobId, attempt, spec } = msg;
    const key = jobKey(jobId, attempt);
    const log = this.options.log.child({ jobId, attempt });
    if (this.stopped) return;
    if (this.running.has(key) || this.outbox.has(key)) {
      log.warn("duplicate lease ignored");
      return;
    }
    this.counts.leases++;
    if (this.paused && msg.interruptible === true) {
      // leased before the gateway heard of the pause: give it back rather than refuse (no attempt used)
      this.counts.released++;
      log.info("lease released: paused by its owner");
      this.giveBack(log, { type: "release", jobId, attempt, reason: "paused by its owner" });
      return;
    }
    const refusal = this.refusalFor(spec);
    if (refusal) {
      this.counts.refused++;
      log.warn({ reason: refusal }, "lease refused");
      this.deliver({ type: "failure", jobId, attempt, retryable: true, reason: refusal });
      return;
    }
    const runtime = this.options.runtimes[spec.runtime] as Runtime<JobSpec>;
    const job: RunningJob = {
      jobId,
      attempt,
      controller: new AbortController(),
      log,
      interruptible: msg.interruptible === true,
      stream: msg.stream !== false,
      evidence: msg.evidence,
      waitingForMemory: false,
    };
    this.running.set(key, job);
    this.counts.peakRunning = Math.max(this.counts.peakRunning, this.running.size);
    log.info({ runtime: spec.runtime, leaseExpiresAt: msg.leaseExpiresAt }, "job started");
    void this.run(job, runtime, spec);
  }

  handleCancel(msg: CancelMessage): void {
    const key = jobKey(msg.jobId, msg.attempt);
    const job = this.running.get(key);
    // already stopping (cancelled, or released on a pause or drain): a heartbeat named it while it
    // unwound, and the gateway, which no longer holds its lease, says to stop it again
    if (job?.controller.signal.aborted) {
      job.log.debug({ reason: msg.reason }, "cancel for a job already stopping");
      return;
    }
    if (job) {
      job.log.info({ reason: msg.reason }, "job cancelled");
      this.counts.cancelled++;
      job.controller.abort(new Error(`cancelled by the gateway: ${msg.reason}`));
      return;
    }
    // Finished but not yet acked: the gateway no longer wants it.
    if (this.outbox.delete(key)) {
      this.options.log.info(
        { jobId: msg.jobId, attempt: msg.attempt, reason: msg.reason },
        "cancelled job's result dropped",
      );
      this.notifyIfIdle();
      return;
    }
    this.options.log.debug({ jobId: msg.jobId, attempt: msg.attempt }, "cancel for a job not running here");
  }

  handleAck(msg: AckMessage): void {
    const key = jobKey(msg.jobId, msg.attempt);
    const log = this.options.log.child({ jobId: msg.jobId, attempt: msg.attempt });
    const pending = this.outbox.get(key);
    if (pending?.type !== "result") {
      log.debug({ accepted: msg.accepted }, "ack for no pending result");
      return;
    }
    // Accepted or not, there is nothing more to do with it: a refused result (lease moved on,
    // already settled) cannot become acceptable by sending it again.
    this.outbox.delete(key);
    if (msg.accepted) {
      this.counts.accepted++;
      log.info("result accepted");
    } else {
      this.counts.rejected++;
      log.warn({ reason: msg.reason }, "result not accepted");
    }
    this.notifyIfIdle();
  }

  /** Sends what the outbox holds; called once a connection is authenticated. */
  flush(): void {
    for (const [key, msg] of this.outbox) {
      const sent = this.options.send(msg);
      if (!sent) return;
      if (msg.type !== "result") this.outbox.delete(key);
      this.options.log.info({ jobId: msg.jobId, attempt: msg.attempt, type: msg.type }, "delivered after reconnect");
    }
    this.notifyIfIdle();
  }

  /**
   * Gives every interruptible (batch) lease back unfinished: the job stops here and the gateway
   * requeues it without billing or using up an attempt. Returns how many were released.
   */
  releaseInterruptible(reason: string): number {
    let n = 0;
    for (const job of this.running.values()) {
      if (!job.interruptible) continue;
      job.controller.abort(new Error(`released: ${reason}`));
      job.log.info({ reason }, "lease released");
      this.giveBack(job.log, { type: "release", jobId: job.jobId, attempt: job.attempt, reason });
      n++;
    }
    this.counts.released += n;
    return n;
  }

  /** Pausing gives the batch leases back now; resuming takes leases again. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) this.releaseInterruptible("paused by its owner");
  }

  /** Take no more leases; running jobs finish. */
  startDraining(): void {
    this.draining = true;
  }

  /** Resolves when nothing runs and nothing waits for delivery or an ack. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Aborts every running job and forgets undelivered messages; nothing more is sent. */
  stop(): void {
    this.stopped = true;
    for (const job of this.running.values()) job.controller.abort(new Error("provider stopped"));
    for (const msg of this.outbox.values()) {
      this.options.log.warn(
        { jobId: msg.jobId, attempt: msg.attempt, type: msg.type },
        msg.type === "result"
          ? "provider stopped before the gateway acked this result"
          : `provider stopped before this ${msg.type} reached the gateway: its lease will expire and count as an attempt`,
      );
    }
    this.outbox.clear();
    this.notifyIfIdle();
  }

  /** The EIP-712 Result over what the gateway will bill: min(units × price, escrow), to the consumer's address. */
  private async signEvidence(job: RunningJob, outputHash: string, standardUnits: number): Promise<string | undefined> {
    const ev = job.evidence;
    const ctx = this.options.evidence;
    const domain = ctx?.domain();
    if (!ev || !ctx || !domain) return undefined;
    const cost = billedCost(standardUnits, ev.pricePerUnit, BigInt(ev.maxCost));
    return ctx.signer.signResult(domain, {
      jobId: job.jobId,
      attempt: job.attempt,
      outputHash,
      standardUnits,
      consumer: ev.consumer,
      cost,
    });
  }

  /**
   * Leases held, not counting jobs the gateway cancelled that are still unwinding: the gateway
   * has already counted their slots free (preemption releases a lease and leases the slot to the
   * waiting job at once), so refusing that lease would cost its job an attempt.
   */
  private holding(): number {
    let n = 0;
    for (const j of this.running.values()) if (!j.controller.signal.aborted) n++;
    return n;
  }

  private refusalFor(spec: JobSpec): string | undefined {
    if (this.draining) return "provider draining";
    if (this.holding() >= this.options.concurrency) return "provider at capacity";
    if (!this.options.offered.includes(spec.runtime) || !this.options.runtimes[spec.runtime]) {
      return `runtime ${spec.runtime} not offered by this provider`;
    }
    if (spec.runtime === "llm" && !this.options.modelIds.has(spec.model)) {
      return `model ${spec.model} not served by this provider`;
    }
    // more than the whole budget would wait forever: refused now, retryable, since a provider
    // with a larger budget can run it
    if (spec.runtime === "wasm") return this.options.wasmMemory?.refusal(spec.limits.maxMemoryMb);
    return undefined;
  }

  private async run(job: RunningJob, runtime: Runtime<JobSpec>, spec: JobSpec): Promise<void> {
    const { jobId, attempt, controller, log } = job;
    const signal = controller.signal;
    const started = performance.now();
    let seq = 0;
    let returnMemory: (() => void) | undefined;
    try {
      if (spec.runtime === "wasm" && this.options.wasmMemory) {
        returnMemory = await this.reserveMemory(job, this.options.wasmMemory, spec.limits.maxMemoryMb);
      }
      const { output, units } = await runtime.execute(spec, {
        jobId,
        attempt,
        signal,
        onChunk: (chunk) => {
          if (signal.aborted || !job.stream) return;
          // seq counts every chunk, sent or not, so the gateway can tell a gap from an end.
          const msg: ChunkMessage = { type: "chunk", jobId, attempt, seq: seq++, text: chunk.text };
          if (chunk.tokens) msg.tokens = chunk.tokens;
          if (chunk.promptTokens !== undefined) msg.promptTokens = chunk.promptTokens;
          this.options.send(msg);
        },
      });
      if (signal.aborted) return;
      const outputHash = canonicalHash(output);
      const result: ResultMessage = {
        type: "result",
        jobId,
        attempt,
        output,
        outputHash,
        units,
        signature: signResult(this.options.identity, { jobId, attempt, outputHash, units }),
        elapsedMs: Math.round(performance.now() - started),
      };
      const chainSignature = await this.signEvidence(job, outputHash, units.standardUnits);
      if (chainSignature) result.chainSignature = chainSignature;
      // Before the schema check, so that an oversized output is the job's fault whatever the
      // runtime: a frame the gateway refuses would close the session, and the result, resent
      // from the outbox on every reconnect, would close each new one too.
      const frameBytes = Buffer.byteLength(JSON.stringify(result));
      const maxFrameBytes = this.options.maxFrameBytes ?? GATEWAY_MAX_FRAME_BYTES;
      if (frameBytes > maxFrameBytes) {
        throw new JobFault(
          `the job's result is a ${frameBytes}-byte frame; the gateway accepts at most ${maxFrameBytes} bytes`,
        );
      }
      const checked = ResultMsg.safeParse(result);
      if (!checked.success) {
        throw new Error(`runtime produced an invalid result: ${checked.error.issues[0]?.message ?? "unknown"}`);
      }
      this.counts.completed++;
      // a WASM job that ran out of fuel or trapped is a result too, billed: say which, and why
      const stop = ranOutOfFuel(output) ? "ran out of fuel" : trapOf(output);
      if (stop)
        log.info({ units, outputHash, elapsedMs: result.elapsedMs, stop }, "job stopped at its own fault (billed)");
      else log.info({ units, outputHash, elapsedMs: result.elapsedMs }, "job completed");
      this.outbox.set(jobKey(jobId, attempt), result);
      this.options.send(result);
    } catch (err) {
      if (signal.aborted) {
        log.info("job aborted");
        return;
      }
      const fault = err instanceof JobFault || (err as Error | undefined)?.name === "JobFault";
      const reason = truncate(errorMessage(err));
      this.counts.failed++;
      log.warn({ reason, retryable: !fault }, "job failed");
      this.deliver({ type: "failure", jobId, attempt, retryable: !fault, reason });
    } finally {
      returnMemory?.();
      this.running.delete(jobKey(jobId, attempt));
      this.notifyIfIdle();
    }
  }

  /**
   * Reserves the job's memory limit from the provider's WASM memory budget, waiting here, in
   * lease order, while the jobs already running hold too much of it.
   *
   * Why wait rather than give the lease back: the gateway does not know this node's memory, only
   * its free slots, so a job released for memory would be requeued and often leased straight
   * back here (or another one like it), round and round. An interactive job given back also
   * uses up one of its attempts and counts against this node; only a first batch release is
   * free. Waiting costs the consumer no attempt and ends as soon as a running job does, which
   * its own time limit bounds. The job stays in `running`, so heartbeats keep naming it and the
   * lease is kept; a cancel, a pause (batch) or a stop while it waits ends the wait. The
   * gateway's lease time cap (core's leaseTimeCapMs) still counts while it waits.
   */
  private async reserveMemory(job: RunningJob, budget: WasmMemoryBudget, mb: number): Promise<() => void> {
    if (budget.mustWait(mb)) {
      job.waitingForMemory = true;
      const { inUseMb, budgetMb, waiting } = budget.stats();
      job.log.info({ memoryMb: mb, inUseMb, budgetMb, ahead: waiting }, "waiting for WASM memory budget");
    }
    try {
      return await budget.reserve(mb, job.controller.signal);
    } finally {
      job.waitingForMemory = false;
    }
  }

  /**
   * A lease given back goes out now, or waits in the outbox for the next connection like a
   * failure: left unsent, the gateway would expire the lease, using an attempt and counting it
   * against this node. A drain waits for it too.
   */
  private giveBack(log: Logger, msg: ReleaseMessage): void {
    if (this.stopped) return;
    if (this.options.send(msg)) return;
    this.outbox.set(jobKey(msg.jobId, msg.attempt), msg);
    log.warn(
      { reason: msg.reason },
      "release kept until the gateway is reachable again; if the provider exits first, the lease expires and counts as an attempt",
    );
  }

  /** A failure goes out now, or waits in the outbox for the next connection. */
  private deliver(msg: FailureMessage): void {
    if (this.stopped) return;
    if (!this.options.send(msg)) this.outbox.set(jobKey(msg.jobId, msg.attempt), msg);
  }

  private isIdle(): boolean {
    return this.running.size === 0 && this.outbox.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function truncate(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}
