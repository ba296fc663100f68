// A fixed-size pool of reusable worker threads, each running one WASM job at a time (see
// worker.mjs). Workers start on demand and live across jobs, so a tiny job costs two
// messages, not a thread start. Terminating the thread is the only way to stop running wasm,
// so a job that overruns its time cap or is aborted takes its worker with it; the pool
// starts a fresh one when the next job needs it.
//
// A worker also keeps every module it ran alive, binary and all: its JS heap is small, so its
// GC rarely runs, and nothing else frees them. So a worker whose distinct modules pass a byte
// budget is replaced, between jobs, before it takes a module it has not run yet.
import { type ResourceLimits, Worker } from "node:worker_threads";
import { JobFault, MeteredStop } from "../types.js";
import type { WasmModule } from "./engine.js";

export interface WasmTask {
  module: WasmModule;
  /** the module's content id and binary size, for the worker's module budget */
  moduleId: string;
  moduleBytes: number;
  /** the imported memory's limits, in 64 KiB pages */
  initial: number;
  maximum: number;
  /** a longer output fails the job (JobFault) before it is copied out of the module's memory */
  maxOutputBytes: number;
  /** the fuel the job may burn (fuel.ts); the module must be instrumented for fuel */
  fuel: number;
  /** transferred to the worker: the caller must not use it afterwards */
  input: ArrayBuffer;
}

export interface WasmTaskResult {
  output: ArrayBuffer;
  /** fuel the job burned: start function, alloc and run together */
  fuel: number;
}

export interface WasmPoolOptions {
  size: number;
  /** V8 heap limits of each worker; wasm memory is capped separately, per job */
  resourceLimits?: ResourceLimits;
  /**
   * binary bytes of distinct modules one worker may run; one that would pass this with a new
   * module is replaced by a fresh worker first. Default DEFAULT_WORKER_MODULE_BYTES.
   */
  workerModuleBytes?: number;
  /**
   * a worker whose job ended with a linear memory larger than this is ended and replaced, so the
   * memory goes back to the system at once. Default DEFAULT_WORKER_RETIRE_MEMORY_BYTES.
   */
  retireAfterMemoryBytes?: number;
}

/**
 * A finished job's memory is freed only when the worker's GC runs, and an idle worker allocates
 * nothing that would make it run: a job that had grown to 4 GiB kept 4 GiB resident in the
 * provider until that worker's next job. Ending the worker frees it now; a worker costs a few ms.
 */
export const DEFAULT_WORKER_RETIRE_MEMORY_BYTES = 64 * 1024 * 1024;

/** Default per-worker module budget: a few large modules, or thousands of small ones. */
export const DEFAULT_WORKER_MODULE_BYTES = 128 * 1024 * 1024;

export interface WasmPoolStats {
  /** workers alive now */
  workers: number;
  /** workers started since the pool was made */
  started: number;
  /** workers replaced because their modules passed the budget */
  recycled: number;
}

/** memoryBytes: the size of the job's linear memory when it ended, when it had one */
type Reply = { id: number; memoryBytes?: number } & (
  | { ok: true; output: ArrayBuffer; fuel: number }
  | { ok: false; kind: "fault" | "out_of_fuel" | "host"; message: string }
  | { ok: false; kind: "trap"; message: string; fuel: number }
);

interface Job {
  id: number;
  task: WasmTask;
  timeoutMs: number;
  signal: AbortSignal;
  resolve: (result: WasmTaskResult) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  slot?: Slot;
  timer?: NodeJS.Timeout;
}

/** the jobs waiting on one abort signal, behind one listener (callers often share a signal) */
interface SignalWatch {
  jobs: Set<Job>;
  onAbort: () => void;
}

interface Slot {
  worker: Worker;
  online: boolean;
  job?: Job;
  /** ids of the modules this worker has been sent, and their summed binary size */
  modules: Set<string>;
  moduleBytes: number;
}

const WORKER_URL = new URL("./worker.mjs", import.meta.url);
// The worker's own JS needs little; these keep a misbehaving worker from eating the host.
const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };

export class WasmWorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly watches = new Map<AbortSignal, SignalWatch>();
  /** jobs from queueHead on wait; slots before it are emptied so a taken job is not kept alive */
  private queue: (Job | undefined)[] = [];
  private queueHead = 0;
  private nextId = 1;
  private closed = false;
  private started = 0;
  private recycled = 0;

  constructor(private readonly options: WasmPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(`wasm pool size must be a positive integer, got ${options.size}`);
    }
  }

  /** Runs one job on the next free worker; `timeoutMs` counts from when a worker takes it. */
  run(task: WasmTask, opts: { timeoutMs: number; signal: AbortSignal }): Promise<WasmTaskResult> {
    if (this.closed) return Promise.reject(new Error("wasm runtime is closed"));
    if (opts.signal.aborted) return Promise.reject(opts.signal.reason);
    return new Promise<WasmTaskResult>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        task,
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        resolve,
        reject,
        settled: false,
      };
      this.watch(job);
      this.queue.push(job);
      this.pump();
    });
  }

  stats(): WasmPoolStats {
    return { workers: this.slots.size, started: this.started, recycled: this.recycled };
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new Error("wasm runtime is closed");
    for (const job of this.queue.slice(this.queueHead)) if (job) this.settle(job, error);
    this.queue = [];
    this.queueHead = 0;
    const slots = [...this.slots];
    this.slots.clear();
    this.idle.length = 0;
    for (const slot of slots) if (slot.job) this.settle(slot.job, error);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private pump(): void {
    while (this.queueHead < this.queue.length) {
      let slot = this.idle.pop() ?? (this.slots.size < this.options.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.dequeue();
      if (!job) {
        this.idle.push(slot);
        return;
      }
      if (this.overBudget(slot, job.task)) {
        this.retire(slot);
        this.recycled++;
        slot = this.spawn();
      }
      this.dispatch(slot, job);
    }
  }

  /** next job still waiting; aborted ones are skipped here rather than spliced out */
  private dequeue(): Job | undefined {
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead] as Job;
      // A job holds its module (binary and all) and input: the array must not keep it past here.
      this.queue[this.queueHead++] = undefined;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      if (!job.settled) return job;
    }
    return undefined;
  }

  /** whether this worker has run modules already and this new one would pass its budget */
  private overBudget(slot: Slot, task: WasmTask): boolean {
    if (slot.modules.size === 0 || slot.modules.has(task.moduleId)) return false;
    const budget = this.options.workerModuleBytes ?? DEFAULT_WORKER_MODULE_BYTES;
    return slot.moduleBytes + task.moduleBytes > budget;
  }

  /** Ends an idle worker on purpose (its exit is then ignored). */
  private retire(slot: Slot): void {
    this.slots.delete(slot);
    void slot.worker.terminate();
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    job.slot = slot;
    if (!slot.modules.has(job.task.moduleId)) {
      slot.modules.add(job.task.moduleId);
      slot.moduleBytes += job.task.moduleBytes;
    }
    slot.worker.ref();
    // A fresh worker's start-up is not the job's time; its clock starts once the thread runs.
    if (slot.online) this.startClock(job);
    const { module, initial, maximum, maxOutputBytes, fuel, input } = job.task;
    slot.worker.postMessage({ id: job.id, module, initial, maximum, maxOutputBytes, fuel, input }, [input]);
  }

  private startClock(job: Job): void {
    job.timer = setTimeout(
      () => this.fail(job, new JobFault(`wasm job exceeded its time limit of ${job.timeoutMs} ms`)),
      job.timeoutMs,
    );
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: this.options.resourceLimits ?? DEFAULT_RESOURCE_LIMITS,
    });
    const slot: Slot = { worker, online: false, modules: new Set(), moduleBytes: 0 };
    this.started++;
    worker.once("online", () => {
      slot.online = true;
      if (slot.job && !slot.job.timer && !slot.job.settled) this.startClock(slot.job);
    });
    worker.on("message", (reply: Reply) => this.onReply(slot, reply));
    worker.on("error", (err) => this.onDeath(slot, err));
    worker.on("exit", (code) => this.onDeath(slot, new Error(`wasm worker exited unexpectedly (code ${code})`)));
    this.slots.add(slot);
    return slot;
  }

  private onReply(slot: Slot, reply: Reply): void {
    const job = slot.job;
    if (!job || job.id !== reply.id || !this.slots.has(slot)) return;
    slot.job = undefined;
    slot.worker.unref();
    const retireAt = this.options.retireAfterMemoryBytes ?? DEFAULT_WORKER_RETIRE_MEMORY_BYTES;
    if ((reply.memoryBytes ?? 0) > retireAt) this.retire(slot);
    else this.idle.push(slot);
    if (reply.ok) this.settle(job, undefined, { output: reply.output, fuel: reply.fuel });
    else this.settle(job, replyError(reply, job.task.fuel));
    this.pump();
  }

  /** Ends a job early (time cap, abort); a running job's worker is terminated with it. */
  private fail(job: Job, error: unknown): void {
    if (job.settled) return;
    this.settle(job, error);
    const slot = job.slot;
    if (slot && slot.job === job) {
      slot.job = undefined;
      this.retire(slot);
    }
    this.pump();
  }

  private onDeath(slot: Slot, err: Error & { code?: string }): void {
    if (!this.slots.has(slot)) return; // terminated on purpose, or already handled
    this.slots.delete(slot);
    const idleAt = this.idle.indexOf(slot);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const outOfMemory = err.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.settle(job, outOfMemory ? new JobFault(`wasm job exceeded the worker's memory limit: ${err.message}`) : err);
    }
    this.pump();
  }

  private watch(job: Job): void {
    const { signal } = job;
    let watch = this.watches.get(signal);
    if (!watch) {
      const jobs = new Set<Job>();
      const onAbort = () => {
        for (const waiting of [...jobs]) this.fail(waiting, signal.reason);
      };
      watch = { jobs, onAbort };
      this.watches.set(signal, watch);
      signal.addEventListener("abort", onAbort, { once: true });
    }
    watch.jobs.add(job);
  }

  private unwatch(job: Job): void {
    const watch = this.watches.get(job.signal);
    if (!watch) return;
    watch.jobs.delete(job);
    if (watch.jobs.size === 0) {
      job.signal.removeEventListener("abort", watch.onAbort);
      this.watches.delete(job.signal);
    }
  }

  private settle(job: Job, error: unknown, result?: WasmTaskResult): void {
    if (job.settled) return;
    job.settled = true;
    if (job.timer) clearTimeout(job.timer);
    this.unwatch(job);
    if (result) job.resolve(result);
    else job.reject(error);
  }
}

function replyError(reply: Reply & { ok: false }, limit: number): Error {
  if (reply.kind === "out_of_fuel") return new MeteredStop(reply.message, limit, true);
  if (reply.kind === "trap") return new MeteredStop(reply.message, reply.fuel, false);
  return reply.kind === "fault" ? new JobFault(reply.message) : new Error(reply.message);
}
