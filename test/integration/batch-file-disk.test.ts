// Batch files as they lie on the gateway's disk, against a gateway started in this process: a file
// whose record is there but whose bytes are gone answers a 404 in OpenAI's shape (it was a 500); a
// batch's output or error file with no line is neither published nor left on the disk.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayHandle } from "@tessera/gateway";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";

describe("batch files on disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-file-disk-"));
  const filesDir = join(dir, "files");
  let gw: GatewayHandle;
  let apiKey: string;
  let openai: OpenAI;

  beforeAll(async () => {
    ({ gw, apiKey } = await gatewayInProcess({ filesDir, rateLimitPerSecond: 0 }, { name: "disk" }));
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (text: string) => openai.files.create({ file: new File([text], "in.jsonl"), purpose: "batch" });

  it("answers a 404 saying the content is gone when a file's bytes are missing from the disk", async () => {
    const file = await upload('{"custom_id":"a"}\n');
    rmSync(join(filesDir, `${file.id}.jsonl`));
    const r = await fetch(`${gw.url}/v1/files/${file.id}/content`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({
      error: {
        message: `File '${file.id}' exists, but its content is no longer on the gateway's disk and cannot be downloaded.`,
        type: "not_found_error",
        param: "file_id",
        code: "file_content_missing",
      },
    });
    // the record itself still reads, and the gateway goes on serving content that is there
    expect(await openai.files.retrieve(file.id)).toMatchObject({ id: file.id });
    const other = await upload('{"custom_id":"b"}\n');
    expect(await (await openai.files.content(other.id)).text()).toBe('{"custom_id":"b"}\n');
  });

  it("leaves no empty output file on the disk when no line of a batch completed", async () => {
    const input = await upload("not json\nnor this\n");
    let batch = await openai.batches.create({
      input_file_id: input.id,
      // Tessera's native endpoint, which the openai client's types do not know
      endpoint: "/v1/jobs" as "/v1/chat/completions",
      completion_window: "24h",
    });
    while (batch.status !== "completed") {
      await new Promise((r) => setTimeout(r, 20));
      batch = await openai.batches.retrieve(batch.id);
    }
    expect(batch).toMatchObject({ output_file_id: null, request_counts: { total: 2, completed: 0, failed: 2 } });
    expect(batch.error_file_id).not.toBeNull();
    const onDisk = readdirSync(filesDir).filter((f) => f.startsWith(batch.id));
    expect(onDisk).toEqual([`${batch.id}.errors.jsonl`]);
  });
});

// OpenAI's `output_expires_after` on POST /v1/batches: each output or error file gets an
// `expires_at` that long after it was created; past it the file is gone (404, not listed), and
// its record and bytes are removed by the gateway's sweep, which also runs at start.
describe("a batch's output_expires_after", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-file-expiry-"));
  const db = join(dir, "gateway.db");
  const filesDir = join(dir, "files");

  afterAll(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sets the files' expires_at from their creation, and removes them once it has passed", async () => {
    const { gw, apiKey } = await gatewayInProcess({ db, filesDir, rateLimitPerSecond: 0 }, { name: "expiry" });
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
    let errorFileId: string;
    try {
      const input = await openai.files.create({ file: new File(["not json\n"], "in.jsonl"), purpose: "batch" });
      // a shape OpenAI refuses is refused here too, naming the field
      const bad = await fetch(`${gw.url}/v1/batches`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          input_file_id: input.id,
          endpoint: "/v1/jobs",
          completion_window: "24h",
          output_expires_after: { anchor: "created_at", seconds: 60 },
        }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        error: { type: "invalid_request_error", param: "output_expires_after.seconds" },
      });

      let batch = await openai.batches.create({
        input_file_id: input.id,
        // Tessera's native endpoint, which the openai client's types do not know
        endpoint: "/v1/jobs" as "/v1/chat/completions",
        completion_window: "24h",
        output_expires_after: { anchor: "created_at", seconds: 3600 },
      });
      while (batch.status !== "completed") {
        await new Promise((r) => setTimeout(r, 20));
        batch = await openai.batches.retrieve(batch.id);
      }
      errorFileId = batch.error_file_id as string;
      const file = await openai.files.retrieve(errorFileId);
      expect(file.expires_at).toBe(file.created_at + 3600);
      expect(await (await openai.files.content(errorFileId)).text()).toContain("line 1");
      // the input file was uploaded, not made by the batch: it does not expire
      expect((await openai.files.retrieve(input.id)).expires_at).toBeNull();

      // an hour and a second later the file is gone to its owner at once, whenever the sweep comes
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 3601_000);
      await expect(openai.files.retrieve(errorFileId)).rejects.toMatchObject({ status: 404 });
      await expect(openai.files.content(errorFileId)).rejects.toMatchObject({ status: 404 });
      expect((await openai.files.list()).data.map((f) => f.id)).toEqual([input.id]);
    } finally {
      await gw.close();
    }

    // a gateway started again over the same store and files removes it, record and bytes
    const again = await gatewayInProcess({ db, filesDir, rateLimitPerSecond: 0 }, { name: "later" });
    try {
      const r = await fetch(`${again.gw.url}/v1/files/${errorFileId}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(r.status).toBe(404);
      expect(await again.gw.store.batches.getFile(errorFileId)).toBeUndefined();
      expect(readdirSync(filesDir).filter((f) => f.includes(".errors."))).toEqual([]);
    } finally {
      await again.gw.close();
    }
  });
});
