// Batches from TypeScript: upload a JSONL file as a stream (any size), start a batch, follow
// its progress as events (done/failed/total, rate, ETA, spend), download output and errors.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { errorFromBody, TesseraError } from "@tessera/protocol";

export interface BatchView {
  id: string;
  object: "batch";
  endpoint: string;
  status: "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  completion_window: string;
  created_at: number;
  expires_at: number;
  request_counts: { total: number; completed: number; failed: number };
  tessera: { spent: string };
}

/** GET /v1/batches: OpenAI's list shape */
export interface BatchPage {
  object: "list";
  data: BatchView[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface FileView {
  id: string;
  object: "file";
  bytes: number;
  filename: string;
  purpose: string;
  created_at: number;
}

export interface BatchProgress {
  batch: BatchView;
  done: number;
  failed: number;
  total: number;
  /** lines finished per second since watching began */
  rate: number;
  /** seconds until every line is finished at that rate; null until measurable */
  etaSeconds: number | null;
  /** nano-credits spent on completed lines */
  spent: bigint;
}

const FINAL = new Set(["completed", "expired", "cancelled", "failed"]);

export class BatchClient {
  private readonly base: string;

  constructor(private readonly opts: { baseUrl: string; apiKey: string; fetch?: typeof fetch }) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
  }

  private async call(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const res = await (this.opts.fetch ?? fetch)(`${this.base}${path}`, {
      method,
      ...init,
      headers: { authorization: `Bearer ${this.opts.apiKey}`, ...(init.headers as Record<string, string>) },
    });
    if (!res.ok) {
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // a proxy's HTML error page: the status is what there is to say
      }
      throw errorFromBody(res.status, body);
    }
    return res;
  }

  /** Streams a file to POST /v1/files (multipart) without reading it into memory. */
  async upload(path: string): Promise<FileView> {
    const boundary = `tessera${randomBytes(12).toString("hex")}`;
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${basename(path).replace(/"/g, "")}"\r\n` +
      "Content-Type: application/jsonl\r\n\r\n";
    const tail = `\r\n--${boundary}--\r\n`;
    const size = Buffer.byteLength(head) + statSync(path).size + Buffer.byteLength(tail);
    async function* body() {
      yield Buffer.from(head);
      yield* createReadStream(path);
      yield Buffer.from(tail);
    }
    const res = await this.call("POST", "/v1/files", {
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(size) },
      duplex: "half",
    } as RequestInit);
    return (await res.json()) as FileView;
  }

  async create(inputFileId: string, endpoint = "/v1/chat/completions", completionWindow = "24h"): Promise<BatchView> {
    const res = await this.call("POST", "/v1/batches", {
      body: JSON.stringify({ input_file_id: inputFileId, endpoint, completion_window: completionWindow }),
      headers: { "content-type": "application/json" },
    });
    return (await res.json()) as BatchView;
  }

  async get(id: string): Promise<BatchView> {
    return (await (await this.call("GET", `/v1/batches/${encodeURIComponent(id)}`)).json()) as BatchView;
  }

  async cancel(id: string): Promise<BatchView> {
    return (await (await this.call("POST", `/v1/batches/${encodeURIComponent(id)}/cancel`)).json()) as BatchView;
  }

  async list(limit = 20): Promise<BatchView[]> {
    return (await this.listPage({ limit })).data;
  }

  /** One page, newest first; pass the page's `last_id` as `after` for the next while `has_more`. */
  async listPage(opts: { limit?: number; after?: string } = {}): Promise<BatchPage> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 20) });
    if (opts.after) q.set("after", opts.after);
    return (await (await this.call("GET", `/v1/batches?${q}`)).json()) as BatchPage;
  }

  /** A file's bytes as a stream (output and error files can be large). */
  async content(fileId: string): Promise<Readable> {
    const res = await this.call("GET", `/v1/files/${encodeURIComponent(fileId)}/content`);
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
  }

  /**
   * Polls the batch and emits `progress` (BatchProgress) on every poll, then `done` (BatchView)
   * once it is final, or `error`. Call `stop()` on the returned emitter to stop early.
   *
   * A poll that fails for a passing reason (the gateway unreachable or restarting, a 5xx, 429 or
   * 408) is retried, with a `retry` event ({ error, attempt, retryInMs }) and a wait doubling up to
   * 10 s, until `retryForMs` (5 minutes) pass without an answer; then, and on any other
   * error (a 401, a 404), `error`. A batch runs on whether or not anyone watches it, so one
   * gateway restart during a long batch should not end the watch.
   */
  watch(id: string, opts: { intervalMs?: number; retryForMs?: number } = {}): EventEmitter & { stop(): void } {
    const emitter = new EventEmitter() as EventEmitter & { stop(): void };
    let stopped = false;
    emitter.stop = () => {
      stopped = true;
    };
    const started = Date.now();
    const interval = opts.intervalMs ?? 500;
    const retryFor = opts.retryForMs ?? 5 * 60_000;
    let first: number | undefined;
    /** when the polls began failing, and how many have */
    let failingSince: number | undefined;
    let failures = 0;
    const poll = async () => {
      while (!stopped) {
        let batch: BatchView;
        try {
          batch = await this.get(id);
        } catch (err) {
          failingSince ??= Date.now();
          failures++;
          if (!passing(err) || Date.now() - failingSince >= retryFor) {
            emitter.emit("error", err);
            return;
          }
          const retryInMs = Math.min(interval * 2 ** (failures - 1), 10_000);
          emitter.emit("retry", { error: err, attempt: failures, retryInMs });
          await new Promise((r) => setTimeout(r, retryInMs));
          continue;
        }
        failingSince = undefined;
        failures = 0;
        try {
          const done = batch.request_counts.completed + batch.request_counts.failed;
          first ??= done;
          const elapsed = (Date.now() - started) / 1000;
          const rate = elapsed > 0 ? (done - first) / elapsed : 0;
          const left = batch.request_counts.total - done;
          const progress: BatchProgress = {
            batch,
            done: batch.request_counts.completed,
            failed: batch.request_counts.failed,
            total: batch.request_counts.total,
            rate,
            etaSeconds: rate > 0 ? left / rate : null,
            spent: BigInt(batch.tessera.spent),
          };
          emitter.emit("progress", progress);
          if (FINAL.has(batch.status)) {
            emitter.emit("done", batch);
            return;
          }
        } catch (err) {
          emitter.emit("error", err);
          return;
        }
        await new Promise((r) => setTimeout(r, interval));
      }
    };
    void poll();
    return emitter;
  }
}

/** a failure that waiting may cure: no answer at all, or the gateway saying so (5xx, 429, 408) */
function passing(err: unknown): boolean {
  if (err instanceof TesseraError) return err.status >= 500 || err.status === 429 || err.status === 408;
  // fetch's own failures (refused, reset, DNS) are TypeErrors; a body that was not JSON is not passing
  return err instanceof TypeError;
}
