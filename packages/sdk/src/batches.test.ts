// BatchClient.watch against a loopback HTTP server that answers what a gateway restarting, or a
// proxy in front of it, may answer while a long batch runs.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TesseraError } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchClient, type BatchProgress, type BatchView } from "./batches.js";

let server: Server;
let base: string;
/** what GET /v1/batches/:id answers, one step per poll; the last step repeats */
let script: ((res: ServerResponse) => void)[] = [];
let polls = 0;

const batch = (status: string, completed: number): BatchView => ({
  id: "batch_1",
  object: "batch",
  endpoint: "/v1/chat/completions",
  status: status as BatchView["status"],
  input_file_id: "file-1",
  output_file_id: null,
  error_file_id: null,
  completion_window: "24h",
  created_at: 0,
  expires_at: 0,
  request_counts: { total: 4, completed, failed: 0 },
  tessera: { spent: String(completed * 10) },
});
const json = (status: number, body: unknown) => (res: ServerResponse) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
const html502 = (res: ServerResponse) =>
  res.writeHead(502, { "content-type": "text/html" }).end("<html><body>Bad Gateway</body></html>");
/** the gateway gone mid-request: the connection drops with no answer */
const reset = (res: ServerResponse) => res.socket?.destroy();
const unavailable = json(503, {
  error: { message: "store unavailable", type: "server_error", param: null, code: "store_unavailable" },
});

beforeAll(async () => {
  server = createServer((req, res) => {
    if (!req.url?.startsWith("/v1/batches/")) return void res.writeHead(404).end();
    const step = script[Math.min(polls, script.length - 1)];
    polls++;
    step?.(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function watch(opts: { retryForMs?: number } = {}) {
  polls = 0;
  const client = new BatchClient({ baseUrl: base, apiKey: "k" });
  const w = client.watch("batch_1", { intervalMs: 5, ...opts });
  const progress: BatchProgress[] = [];
  const retries: { error: unknown; attempt: number }[] = [];
  w.on("progress", (p: BatchProgress) => progress.push(p));
  w.on("retry", (r: { error: unknown; attempt: number }) => retries.push(r));
  const end = new Promise<{ done?: BatchView; error?: unknown }>((resolve) => {
    w.on("done", (done: BatchView) => resolve({ done }));
    w.on("error", (error: unknown) => resolve({ error }));
  });
  return { end, progress, retries };
}

describe("BatchClient.watch", () => {
  it("rides out a gateway restart (dropped connections, 502 pages, 503s) and follows the batch to its end", async () => {
    script = [
      json(200, batch("in_progress", 1)),
      reset,
      html502,
      unavailable,
      json(429, { error: { message: "slow down", type: "requests", param: null, code: "rate_limit_exceeded" } }),
      json(200, batch("in_progress", 3)),
      json(200, batch("completed", 4)),
    ];
    const { end, progress, retries } = watch();
    const { done, error } = await end;
    expect(error).toBeUndefined();
    expect(done?.status).toBe("completed");
    expect(progress.map((p) => p.done)).toEqual([1, 3, 4]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    expect(retries[1]?.error).toMatchObject({ status: 502 });
    expect(retries[2]?.error).toMatchObject({ status: 503, code: "store_unavailable" });
  });

  it("ends with the error at once when waiting cannot help (a 404, a revoked key)", async () => {
    script = [
      json(200, batch("in_progress", 1)),
      json(404, {
        error: { message: "No batch", type: "not_found_error", param: "batch_id", code: "batch_not_found" },
      }),
    ];
    const { end, retries } = watch();
    const { error } = await end;
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toMatchObject({ status: 404, code: "batch_not_found" });
    expect(retries).toEqual([]);
  });

  it("gives up once the gateway has not answered for retryForMs", async () => {
    script = [unavailable];
    const { end, retries } = watch({ retryForMs: 200 });
    const { error } = await end;
    expect(error).toMatchObject({ status: 503 });
    expect(retries.length).toBeGreaterThan(1);
  });
});
