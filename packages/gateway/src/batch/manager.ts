// The gateway's batches: creates them from uploaded files, runs each with a BatchRunner,
// answers reads from the live runner (or the store once finished), and picks unfinished
// batches up again after a restart.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { InvalidRequest, InvalidState, NotFound } from "@tessera/protocol";
import type { BatchEndpoint, BatchFileRecord, BatchRecord } from "@tessera/store";
import type { RouteContext } from "../routes/context.js";
import { BatchRunner } from "./runner.js";
import { ConsumerSlots } from "./slots.js";

/** OpenAI accepts "24h"; Tessera also takes other windows in s, m or h (at least 1 s, at most 7 days). */
export function windowMs(window: string): number {
  const m = /^(\d{1,6})(s|m|h)$/.exec(window);
  const ms = m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"] : Number.NaN;
  if (!(ms >= 1000 && ms <= 7 * 24 * 3_600_000))
    throw new InvalidRequest("completion_window must be like '24h' (s, m or h; up to 7 days).", "completion_window");
  return ms;
}

export function filesDirFor(ctx: RouteContext): string {
  if (ctx.config.filesDir) return ctx.config.filesDir;
  const db = ctx.config.db;
  if (db === ":memory:" || /^postgres(ql)?:\/\//.test(db))
    return join(tmpdir(), `tessera-files-${ctx.identity.id.slice(0, 16)}`);
  return join(dirname(db), "files");
}

/** how often files past their expiry (a batch's `output_expires_after`) are removed from the store and the disk */
export const FILE_SWEEP_MS = 60_000;
/** expired files removed per store read */
const SWEEP_PAGE = 100;

export class BatchManager {
  readonly dir: string;
  private readonly runners = new Map<string, BatchRunner>();
  private readonly slots: ConsumerSlots;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly ctx: RouteContext) {
    this.dir = filesDirFor(ctx);
    mkdirSync(this.dir, { recursive: true });
    this.slots = new ConsumerSlots(ctx.config.batchInFlightPerConsumer);
  }

  /**
   * Removes the files whose expiry has passed: the record first, then the bytes (as DELETE
   * /v1/files does). The routes answer an expired file as not found before this reaches it.
   */
  async removeExpired(now = Date.now()): Promise<number> {
    // The files of a batch not yet saved finished are kept: it stopped (a restart, a store outage)
    // after publishing them, and is resumed from them; removed, its lines would all run, and be
    // billed, again. Its publish at the end gives them a new expiry.
    const kept = new Set<string>();
    for (const b of await this.ctx.store.batches.unfinishedBatches()) kept.add(b.outputFileId).add(b.errorFileId);
    // each page reads past the kept ones, which come back on every page
    const page = SWEEP_PAGE + kept.size;
    let removed = 0;
    for (;;) {
      const due = await this.ctx.store.batches.expiredFiles(now, page);
      for (const f of due) {
        if (kept.has(f.id)) continue;
        await this.ctx.store.batches.deleteFile(f.id);
        await rm(f.path, { force: true });
        removed++;
      }
      if (due.length < page) return removed;
    }
  }

  private sweep(): Promise<void> {
    this.sweeping ??= this.removeExpired()
      .then((removed) => {
        if (removed) this.ctx.log.info({ removed }, "expired files removed");
      })
      .catch((err: unknown) => this.ctx.log.error({ err }, "removing expired files failed"))
      .finally(() => {
        this.sweeping = undefined;
      });
    return this.sweeping;
  }

  /** Stops the expiry sweep, waiting for one in progress (the store is closed next). */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.sweeping;
  }

  /** Resumes every batch a previous run of the gateway left unfinished, and starts the expiry sweep. */
  async restore(): Promise<void> {
    await this.sweep();
    this.sweepTimer = setInterval(() => void this.sweep(), FILE_SWEEP_MS);
    this.sweepTimer.unref();
    const unfinished = await this.ctx.store.batches.unfinishedBatches();
    for (const b of unfinished) {
      const input = await this.ctx.store.batches.getFile(b.inputFileId);
      if (input) this.run(b, input.path);
    }
    if (unfinished.length) this.ctx.log.info({ batches: unfinished.length }, "resumed unfinished batches");
  }

  async create(
    consumerId: string,
    req: {
      inputFileId: string;
      endpoint: BatchEndpoint;
      completionWindow: string;
      metadata: Record<string, string> | null;
      outputExpiresAfterSeconds: number | null;
    },
  ): Promise<BatchRecord> {
    const ms = windowMs(req.completionWindow);
    const input = await this.ctx.store.batches.getFile(req.inputFileId);
    if (!input || input.consumerId !== consumerId) throw new NotFound("file", req.inputFileId, "input_file_id");
    if (input.purpose !== "batch")
      throw new InvalidRequest("The input file's purpose must be 'batch'.", "input_file_id");
    const now = Date.now();
    const id = `batch_${randomBytes(12).toString("hex")}`;
    const batch: BatchRecord = {
      id,
      consumerId,
      endpoint: req.endpoint,
      inputFileId: input.id,
      completionWindow: req.completionWindow,
      status: "validating",
      outputFileId: `file-${id.slice(6)}-output`,
      errorFileId: `file-${id.slice(6)}-errors`,
      createdAt: now,
      expiresAt: now + ms,
      inProgressAt: null,
      finalizingAt: null,
      completedAt: null,
      failedAt: null,
      expiredAt: null,
      cancellingAt: null,
      cancelledAt: null,
      total: 0,
      completed: 0,
      failed: 0,
      spent: 0n,
      metadata: req.metadata,
      outputExpiresAfterSeconds: req.outputExpiresAfterSeconds,
      errors: null,
    };
    await this.ctx.store.batches.putBatch(batch);
    this.run(batch, input.path);
    return batch;
  }

  async get(consumerId: string, id: string): Promise<BatchRecord> {
    const b = this.runners.get(id)?.batch ?? (await this.ctx.store.batches.getBatch(id));
    if (!b || b.consumerId !== consumerId) throw new NotFound("batch", id, "batch_id");
    return b;
  }

  async list(consumerId: string, q: { after?: string; limit: number }): Promise<BatchRecord[]> {
    const rows = await this.ctx.store.batches.listBatches(consumerId, q);
    return rows.map((b) => this.runners.get(b.id)?.batch ?? b);
  }

  async cancel(consumerId: string, id: string): Promise<BatchRecord> {
    const b = await this.get(consumerId, id);
    const runner = this.runners.get(id);
    if (!runner || !["validating", "in_progress"].includes(b.status)) {
      if (b.status === "cancelling" || b.status === "cancelled") return b;
      throw new InvalidState(`Batch ${id} is ${b.status} and cannot be cancelled.`);
    }
    await runner.stop("cancelled");
    return runner.batch;
  }

  private paths(b: BatchRecord) {
    return { outputPath: join(this.dir, `${b.id}.output.jsonl`), errorPath: join(this.dir, `${b.id}.errors.jsonl`) };
  }

  private run(batch: BatchRecord, inputPath: string): void {
    const { outputPath, errorPath } = this.paths(batch);
    const store = this.ctx.store.batches;
    const runner = new BatchRunner(batch, {
      ctx: this.ctx,
      slots: this.slots,
      log: this.ctx.log,
      inputPath,
      outputPath,
      errorPath,
      save: (b) => store.putBatch(b),
      publish: async (b, counts) => {
        const createdAt = Date.now();
        // output_expires_after is anchored at the file's creation, not the batch's (as OpenAI's)
        const after = b.outputExpiresAfterSeconds;
        const file = (id: string, path: string, lines: number, suffix: string): BatchFileRecord => ({
          id,
          consumerId: b.consumerId,
          purpose: "batch_output",
          filename: `${b.id}_${suffix}.jsonl`,
          bytes: 0,
          lines,
          path,
          createdAt,
          expiresAt: after ? createdAt + after * 1000 : null,
        });
        // a file with no line is not one: the batch names neither (output_file_id, error_file_id
        // null), and OpenAI lists no such file; its empty file (the runner opens both for
        // appending) is removed rather than left on the disk with no record to reach or delete it
        for (const f of [
          file(b.outputFileId, outputPath, counts.output, "output"),
          file(b.errorFileId, errorPath, counts.errors, "errors"),
        ]) {
          if (f.lines === 0) {
            await rm(f.path, { force: true });
            continue;
          }
          f.bytes = await stat(f.path)
            .then((s) => s.size)
            .catch(() => 0);
          await store.putFile(f);
        }
      },
    });
    this.runners.set(batch.id, runner);
    void runner.start().then(() => this.runners.delete(batch.id));
  }
}
