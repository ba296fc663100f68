// How a batch reads its input lines at the edges, against a gateway started in this process with
// a small request body limit and no provider (every line here ends as an error line, at once):
// a UTF-8 byte order mark opening the file, and a line longer than a request body may be.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayHandle } from "@tessera/gateway";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";
import { until } from "../helpers/network.js";

const BODY_LIMIT = 16 * 1024;

const line = (customId: string, content = "hi") =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "no-such-model", messages: [{ role: "user", content }] },
  });

describe("batch input lines", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-batch-lines-"));
  let gw: GatewayHandle;
  let openai: OpenAI;

  beforeAll(async () => {
    const started = await gatewayInProcess(
      { filesDir: join(dir, "files"), bodyLimitBytes: BODY_LIMIT },
      { name: "lines" },
    );
    gw = started.gw;
    const { apiKey } = started;
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** runs a batch over `body` to its end; its error lines by custom_id order of the file */
  async function errorsOf(
    body: string,
  ): Promise<{ total: number; errors: { custom_id: string | null; code: string; message: string }[] }> {
    const file = await openai.files.create({ file: await toFile(Buffer.from(body), "in.jsonl"), purpose: "batch" });
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const b = await until("the batch to end", async () => {
      const now = await openai.batches.retrieve(created.id);
      return now.status === "completed" ? now : undefined;
    });
    expect(b.output_file_id).toBeNull();
    // no line completed: no output file, listed or fetched (only the error file is one)
    const written = (await openai.files.list({ purpose: "batch_output" })).data.map((f) => f.id);
    expect(written).toContain(b.error_file_id);
    expect(written.filter((id) => id.includes(b.id.slice(6)))).toEqual([b.error_file_id]);
    await expect(openai.files.retrieve(`file-${b.id.slice(6)}-output`)).rejects.toMatchObject({ status: 404 });
    const text = await (await openai.files.content(b.error_file_id as string)).text();
    const errors = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; custom_id: string | null; error: { code: string; message: string } })
      .sort((x, y) => Number(x.id.split("_").at(-1)) - Number(y.id.split("_").at(-1)))
      .map((l) => ({ custom_id: l.custom_id, ...l.error }));
    expect(b.request_counts).toEqual({ total: errors.length, completed: 0, failed: errors.length });
    return { total: b.request_counts?.total ?? 0, errors };
  }

  it("publishes no output file for a batch none of whose lines completed (errorsOf checks it)", async () => {
    const { errors } = await errorsOf(`${line("only")}\n`);
    expect(errors).toEqual([
      { custom_id: "only", code: "model_not_found", message: expect.stringMatching(/^line 1: /) },
    ]);
  });

  it("reads a first line behind a UTF-8 byte order mark as JSON, custom_id and all", async () => {
    // what Notepad and PowerShell's Out-File write: a byte order mark, CRLF line ends
    const { errors } = await errorsOf(`\uFEFF${line("a")}\r\n${line("a")}\r\n${line("b")}\r\n`);
    expect(errors).toEqual([
      { custom_id: "a", code: "model_not_found", message: expect.stringMatching(/^line 1: /) },
      { custom_id: "a", code: "duplicate_custom_id", message: expect.stringMatching(/^line 2: /) },
      { custom_id: "b", code: "model_not_found", message: expect.stringMatching(/^line 3: /) },
    ]);
  });

  it("answers a line longer than a request body may be with an error line, without reading it whole", async () => {
    const long = line("long", "x".repeat(4 * BODY_LIMIT));
    const atLimit = line("at-limit", "y".repeat(BODY_LIMIT - line("at-limit", "").length));
    expect(Buffer.byteLength(atLimit)).toBe(BODY_LIMIT);
    const { total, errors } = await errorsOf(`${line("first")}\n${long}\n${atLimit}\n\n${long}`);
    expect(total).toBe(4);
    const tooLong = (n: number) => ({
      custom_id: null,
      code: "payload_too_large",
      message: `line ${n}: the line is longer than ${BODY_LIMIT} bytes, the most a request body may be.`,
    });
    expect(errors).toEqual([
      { custom_id: "first", code: "model_not_found", message: expect.stringMatching(/^line 1: /) },
      tooLong(2),
      { custom_id: "at-limit", code: "model_not_found", message: expect.stringMatching(/^line 3: /) },
      tooLong(5),
    ]);
  });

  it("fails a batch whose input file cannot be read, instead of leaving it validating for good", async () => {
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${line("a")}\n`), "in.jsonl"),
      purpose: "batch",
    });
    // the bytes gone from under the record (a cleaned-up directory, a lost disk)
    rmSync(join(dir, "files", `${file.id}.jsonl`));
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const b = await until("the batch to fail", async () => {
      const now = await openai.batches.retrieve(created.id);
      return now.status === "validating" ? undefined : now;
    });
    expect(b).toMatchObject({
      status: "failed",
      failed_at: expect.any(Number),
      output_file_id: null,
      error_file_id: null,
      errors: {
        object: "list",
        data: [{ code: "input_file_unreadable", message: "The input file could not be read (ENOENT).", line: null }],
      },
    });
    // finished: a cancel is refused as for any finished batch, and the input file can be deleted
    await expect(openai.batches.cancel(b.id)).rejects.toMatchObject({ status: 409 });
    await expect(openai.files.delete(file.id)).resolves.toMatchObject({ deleted: true });
  });
});
