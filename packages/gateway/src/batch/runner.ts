// Runs one batch: reads its input file as a stream, submits each line as a batch-class job
// (bounded in flight per consumer), and appends each finished line to the output or error file
// exactly once. The files are the record of which lines are done: after a restart they are read
// back, and the remaining lines are submitted again under the same idempotency keys, so a line
// whose job already exists is picked up, never charged twice.
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminal, type JobRecord } from "@tessera/core";
import { TesseraError } from "@tessera/protocol";
import type { BatchRecord, BatchStatus } from "@tessera/store";
import type { Logger } from "pino";
import type { RouteContext } from "../routes/context.js";
import { numberedLines, recoverAppendFile, syncFile } from "./files.js";
import { LineSink } from "./line-sink.js";
import { errorLine, jobLine, type OutputLine, type ParsedLine, parseLine, readWritten } from "./lines.js";
import type { ConsumerSlots } from "./slots.js";

export interface RunnerDeps {
  ctx: RouteContext;
  slots: ConsumerSlots;
  log: Logger;
  inputPath: string;
  outputPath: string;
  errorPath: string;
  /** persists the record; called in order, the last call wins */
  save(b: BatchRecord): Promise<void>;
  /** registers the finished output and error files that hold a line, and removes from the disk those that hold none */
  publish(b: BatchRecord, files: { output: number; errors: number }): Promise<void>;
}

type StopReason = "cancelled" | "expired";

export class BatchRunner {
  private done = new Set<number>();
  /** lines whose custom_id an earlier line already used: they go to the error file, as OpenAI requires ids unique */
  private duplicates = new Set<number>();
  /** whether the input has been read through once (counted, duplicates found) in this run */
  private scanned = false;
  private readonly active = new Map<string, number>();
  private out?: LineSink;
  private err?: LineSink;
  private stopReason: StopReason | undefined;
  /** aborted when the batch stops, ending a wait for an in-flight slot */
  private readonly stopping = new AbortController();
  private expiryTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  private flushTimer: NodeJS.Timeout | undefined;
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  constructor(
    public batch: BatchRecord,
    private readonly deps: RunnerDeps,
  ) {
    this.finished = new Promise((r) => {
      this.resolveFinished = r;
    });
  }

  /** the longest input line read: what one synchronous request's body may be */
  private get maxLine(): number {
    return this.deps.ctx.config.bodyLimitBytes;
  }

  private get engine() {
    return this.deps.ctx.engine;
  }

  /** Runs (or resumes) the batch to a final state; never rejects. */
  async start(): Promise<void> {
    try {
      // finalizing is resumed as running is: the files are read back and a line missing from them
      // is done again, so what the record counts is what the files hold
      const resumable = () => ["in_progress", "cancelling", "finalizing"].includes(this.batch.status);
      if (this.batch.status === "validating") await this.validate();
      else if (resumable()) {
        const total = await this.scan();
        // cancelled while validating, and the gateway stopped before the count was saved
        if (this.batch.total === 0) this.batch = { ...this.batch, total };
      }
      if (resumable()) {
        if (this.batch.status === "cancelling") {
          this.stopReason = "cancelled";
          this.stopping.abort();
        }
        await this.recover();
        this.armExpiry();
        this.flushTimer = setInterval(() => {
          this.out?.flush();
          this.err?.flush();
          if (this.dirty) void this.save();
        }, 500);
        await this.loop();
      }
      if (this.batch.status !== "failed") await this.finalize();
    } catch (err) {
      this.deps.log.error({ err, batchId: this.batch.id }, "batch runner failed");
      // The input could not be read through once (gone from the disk, an I/O error): nothing was
      // submitted, and left validating, with no runner, the batch could be neither cancelled nor
      // finished, nor its input file deleted. It fails, as OpenAI's batches fail validation (or is
      // cancelled, when a cancel came first). Past validation the files hold what is done, and a
      // restart resumes from them.
      if (!this.scanned && this.batch.inProgressAt === null) await this.failValidation(err);
    } finally {
      clearTimeout(this.expiryTimer);
      clearInterval(this.flushTimer);
      this.resolveFinished();
    }
  }

  private async failValidation(err: unknown): Promise<void> {
    // cancelled while validating: it was promised cancelled, and nothing ran
    if (this.batch.status === "cancelling") {
      this.set("cancelled", { cancelledAt: Date.now() });
      await this.save();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    this.set("failed", {
      failedAt: Date.now(),
      errors: [
        {
          code: "input_file_unreadable",
          // the error's own message names the server's paths: its code is what the consumer may see
          message: `The input file could not be read${typeof code === "string" ? ` (${code})` : ""}.`,
          line: null,
        },
      ],
    });
    await this.save();
  }

  /** Stops submitting; jobs in flight are cancelled (refunded) and every unfinished line gets an error line. */
  async stop(reason: StopReason): Promise<void> {
    if (this.stopReason || !["validating", "in_progress"].includes(this.batch.status)) return;
    this.stopReason = reason;
    this.stopping.abort();
    if (reason === "cancelled") this.set("cancelling", { cancellingAt: Date.now() });
    await this.save();
    // all at once: the group writer commits them together, where one at a time a batch of a few
    // hundred lines in flight took seconds to answer its cancel
    await Promise.all(
      [...this.active.keys()].map((jobId) => this.engine.cancel(this.batch.consumerId, jobId).catch(() => {})),
    );
  }

  private async validate(): Promise<void> {
    const total = await this.scan();
    // a cancel during the scan has moved the batch to cancelling: it never goes back
    if (this.batch.status === "validating") this.set("in_progress", { total, inProgressAt: Date.now() });
    else this.batch = { ...this.batch, total };
    await this.save();
  }

  /**
   * One streamed pass over the input: counts the requests and finds repeated custom_ids (the
   * later line is the duplicate, so a resumed batch finds the same ones). Only the ids are held,
   * and only during the pass.
   */
  private async scan(): Promise<number> {
    this.scanned = false;
    let total = 0;
    const seen = new Set<string>();
    for await (const [n, text] of numberedLines(this.deps.inputPath, this.maxLine)) {
      if (text !== null && !text.trim()) continue;
      total++;
      const id = customIdOf(text);
      if (id === null) continue;
      if (seen.has(id)) this.duplicates.add(n);
      else seen.add(id);
    }
    this.scanned = true;
    return total;
  }

  /** Reads back what the output and error files already hold (a restart) and reopens them for appending. */
  private async recover(): Promise<void> {
    let completed = 0;
    let failed = 0;
    let spent = 0n;
    await recoverAppendFile(this.deps.outputPath, (text) => {
      const w = readWritten(text);
      if (w && !this.done.has(w.line)) {
        this.done.add(w.line);
        completed++;
        spent += w.cost;
      }
    });
    await recoverAppendFile(this.deps.errorPath, (text) => {
      const w = readWritten(text);
      if (w && !this.done.has(w.line)) {
        this.done.add(w.line);
        failed++;
        spent += w.cost;
      }
    });
    this.batch = { ...this.batch, completed, failed, spent };
    this.out = new LineSink(this.deps.outputPath);
    this.err = new LineSink(this.deps.errorPath);
  }

  private armExpiry(): void {
    const ms = this.batch.expiresAt - Date.now();
    this.expiryTimer = setTimeout(() => void this.stop("expired"), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  }

  private async loop(): Promise<void> {
    const consumer = this.batch.consumerId;
    const inFlight = new Set<Promise<void>>();
    for await (const [n, text] of numberedLines(this.deps.inputPath, this.maxLine)) {
      if ((text !== null && !text.trim()) || this.done.has(n)) continue;
      // too long to be a request, whether or not the batch has stopped: no job was ever made of it
      if (text === null) {
        this.write(n, this.tooLongLine(n));
        continue;
      }
      if (!this.stopReason) {
        // a stop ends the wait: another batch of the consumer may hold every slot for hours
        const got = await this.deps.slots.acquire(consumer, this.stopping.signal);
        if (got && this.stopReason) this.deps.slots.release(consumer);
      }
      if (this.stopReason) {
        await this.settleStopped(n, text);
        continue;
      }
      const p = this.runLine(n, text).finally(() => {
        this.deps.slots.release(consumer);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }

  /**
   * A line reached after the batch stopped. Its job may exist from before a restart: a running
   * one is cancelled (refunded), a completed one still goes to the output file.
   */
  private async settleStopped(n: number, text: string): Promise<void> {
    const existing = await this.deps.ctx.store.jobByIdempotencyKey(this.batch.consumerId, this.key(n));
    if (existing) {
      const live = this.engine.activeJob(existing.id) ?? existing;
      const final = isTerminal(live) ? live : await this.engine.cancel(this.batch.consumerId, live.id);
      const parsed = parseLine(this.deps.ctx, this.batch.endpoint, text, this.batch.id);
      if (final.status === "completed" && parsed.ok) {
        this.write(n, jobLine(this.batch.id, this.batch.endpoint, n, parsed.line, final));
        return;
      }
    }
    this.write(n, this.stoppedLine(n, text));
  }

  private key(n: number): string {
    return `tessera-batch:${this.batch.id}:${n}`;
  }

  /** a line longer than a request body may be: never read whole, so its custom_id is unknown */
  private tooLongLine(n: number): OutputLine {
    return errorLine(
      this.batch.id,
      n,
      null,
      "payload_too_large",
      `line ${n + 1}: the line is longer than ${this.maxLine} bytes, the most a request body may be.`,
    );
  }

  private stoppedLine(n: number, text: string): OutputLine {
    const customId = customIdOf(text);
    const code = this.stopReason === "expired" ? "batch_expired" : "batch_cancelled";
    const message =
      this.stopReason === "expired"
        ? "The batch's completion window ended before this request was processed."
        : "The batch was cancelled before this request was processed.";
    return errorLine(this.batch.id, n, customId, code, message);
  }

  /** Never rejects: a line that fails unexpectedly is written as an error line, so the batch
   * still accounts for it and finishes (a rejection here would be unhandled). */
  private async runLine(n: number, text: string): Promise<void> {
    try {
      await this.processLine(n, text);
    } catch (err) {
      this.deps.log.error({ err, batchId: this.batch.id, line: n }, "batch line failed");
      this.write(
        n,
        errorLine(
          this.batch.id,
          n,
          customIdOf(text),
          "internal_error",
          `line ${n + 1}: the gateway could not process it`,
        ),
      );
    }
  }

  private async processLine(n: number, text: string): Promise<void> {
    if (this.duplicates.has(n)) {
      const id = customIdOf(text);
      this.write(
        n,
        errorLine(
          this.batch.id,
          n,
          id,
          "duplicate_custom_id",
          `line ${n + 1}: custom_id '${id}' is used by an earlier line; custom_ids must be unique within a batch.`,
        ),
      );
      return;
    }
    const parsed = parseLine(this.deps.ctx, this.batch.endpoint, text, this.batch.id);
    if (!parsed.ok) {
      this.write(
        n,
        errorLine(this.batch.id, n, parsed.customId, parsed.error.code, `line ${n + 1}: ${parsed.error.message}`),
      );
      return;
    }
    const job = await this.submit(n, parsed.line);
    if (!job) return;
    this.active.set(job.id, n);
    const final = await this.waitDone(job);
    this.active.delete(job.id);
    if (this.stopReason && final.status === "cancelled") this.write(n, this.stoppedLine(n, text));
    else this.write(n, jobLine(this.batch.id, this.batch.endpoint, n, parsed.line, final));
  }

  /** Submits a line's job; waits while no provider is online. Undefined when the line ended in an error line. */
  private async submit(n: number, line: ParsedLine): Promise<JobRecord | undefined> {
    for (;;) {
      if (this.stopReason) {
        this.write(n, this.stoppedLine(n, JSON.stringify({ custom_id: line.customId })));
        return undefined;
      }
      try {
        return await this.engine.submit({
          consumerId: this.batch.consumerId,
          spec: line.spec,
          constraints: line.constraints,
          idempotencyKey: this.key(n),
          patient: true,
          requestHash: line.requestHash,
          jobClass: "batch",
          deadlineMs: Math.max(1, this.batch.expiresAt - Date.now()),
        });
      } catch (e) {
        if (e instanceof TesseraError && e.code === "no_capacity") {
          await sleep(1000);
          continue;
        }
        const err =
          e instanceof TesseraError ? e : new TesseraError("internal_error", 500, "submit failed", "server_error");
        if (!(e instanceof TesseraError))
          this.deps.log.error({ err: e, batchId: this.batch.id, line: n }, "line submit failed");
        this.write(n, errorLine(this.batch.id, n, line.customId, err.code, `line ${n + 1}: ${err.message}`));
        return undefined;
      }
    }
  }

  private waitDone(job: JobRecord): Promise<JobRecord> {
    if (isTerminal(job)) return Promise.resolve(job);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (j: JobRecord) => {
        if (settled) return;
        settled = true;
        off();
        resolve(j);
      };
      const off = this.engine.events.on(job.id, (e) => e.type === "done" && finish(e.job));
      // the job may have finished between submit answering and the listener being added
      if (!this.engine.activeJob(job.id))
        void this.deps.ctx.store.getJob(job.id).then((j) => j && isTerminal(j) && finish(j));
    });
  }

  private write(n: number, line: OutputLine): void {
    if (this.done.has(n)) return;
    this.done.add(n);
    (line.ok ? this.out : this.err)?.push(line.text);
    this.batch = line.ok
      ? { ...this.batch, completed: this.batch.completed + 1, spent: this.batch.spent + line.cost }
      : { ...this.batch, failed: this.batch.failed + 1, spent: this.batch.spent + line.cost };
    this.dirty = true;
  }

  private async finalize(): Promise<void> {
    clearTimeout(this.expiryTimer);
    clearInterval(this.flushTimer);
    const final: BatchStatus =
      this.stopReason === "cancelled" ? "cancelled" : this.stopReason === "expired" ? "expired" : "completed";
    // Only a batch that ran to its end shows finalizing (a cancelled one stays cancelling until
    // it is cancelled, as OpenAI's does; an expired one stays in_progress until it is expired), so
    // a restart that finds a finalizing record knows the batch completed. From here on stop() is a
    // no-op (the status is no longer validating or in_progress, or a stop reason is set).
    if (final === "completed" && this.batch.status !== "finalizing")
      this.set("finalizing", { finalizingAt: Date.now() });
    // Every counted line is on disk before a record with these counts says the batch is past
    // running: a crash after the save must not lose lines still held in the sinks.
    await Promise.all([this.out?.end(), this.err?.end()]);
    await Promise.all([this.deps.outputPath, this.deps.errorPath].map(syncIfThere));
    if (this.batch.status === "finalizing") await this.save();
    await this.deps.publish(this.batch, { output: this.batch.completed, errors: this.batch.failed });
    const now = Date.now();
    const at =
      final === "cancelled" ? { cancelledAt: now } : final === "expired" ? { expiredAt: now } : { completedAt: now };
    this.set(final, at);
    await this.save();
    this.deps.log.info(
      { batchId: this.batch.id, status: final, completed: this.batch.completed, failed: this.batch.failed },
      "batch finished",
    );
  }

  private set(status: BatchStatus, fields: Partial<BatchRecord>): void {
    this.batch = { ...this.batch, ...fields, status };
  }

  private save(): Promise<void> {
    this.dirty = false;
    const snapshot = this.batch;
    this.saving = this.saving
      .then(() => this.deps.save(snapshot))
      .catch((err) => {
        this.deps.log.error({ err, batchId: snapshot.id }, "saving batch failed");
      });
    return this.saving;
  }
}

/** fsync, where a file that was never opened for writing has nothing to sync */
async function syncIfThere(path: string): Promise<void> {
  await syncFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
}

function customIdOf(text: string | null): string | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { custom_id?: unknown };
    return typeof v.custom_id === "string" ? v.custom_id : null;
  } catch {
    return null;
  }
}
