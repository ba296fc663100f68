// Batch file uploads at the edges, against a gateway started in this process with a small file
// limit (no CLI flag sets it): an upload over the limit is refused while it is still arriving,
// and leaves nothing on disk; a file with no request in it is refused as empty.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayHandle } from "@tessera/gateway";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";

const LIMIT = 64 * 1024;

describe("batch file uploads", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-upload-"));
  const filesDir = join(dir, "files");
  let gw: GatewayHandle;
  let apiKey: string;
  let openai: OpenAI;

  beforeAll(async () => {
    ({ gw, apiKey } = await gatewayInProcess({ filesDir, fileLimitBytes: LIMIT }, { name: "uploader" }));
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const form = (body: string | Buffer) => {
    const fd = new FormData();
    fd.set("purpose", "batch");
    fd.set("file", new Blob([body]), "in.jsonl");
    return fd;
  };

  it("refuses an upload over the file limit with a 413 while the body is still arriving, and keeps no partial file", async () => {
    // 32 MiB against a 64 KiB limit: the answer comes long before the body could have been read
    const big = Buffer.alloc(32 * 1024 * 1024, "x\n");
    const r = await fetch(`${gw.url}/v1/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}` },
      body: form(big),
    });
    expect(r.status).toBe(413);
    expect(r.headers.get("connection")).toBe("close");
    expect(await r.json()).toMatchObject({
      error: { code: "payload_too_large", type: "invalid_request_error", message: expect.stringContaining(`${LIMIT}`) },
    });
    // the official client sees the same refusal
    await expect(
      openai.files.create({ file: await toFile(Buffer.alloc(LIMIT + 1, "y"), "big.jsonl"), purpose: "batch" }),
    ).rejects.toMatchObject({ status: 413, code: "payload_too_large" });
    expect(readdirSync(filesDir).filter((f) => f.endsWith(".partial"))).toEqual([]);
    expect(await openai.files.list()).toMatchObject({ data: [] });

    // the gateway goes on taking uploads within the limit
    const ok = await openai.files.create({
      file: await toFile(Buffer.from('{"a":1}\n'), "ok.jsonl"),
      purpose: "batch",
    });
    expect(ok.bytes).toBe(8);
  }, 60_000);

  it("refuses a file of blank lines as empty, as it refuses a file of no bytes", async () => {
    const upload = (body: string) => openai.files.create({ file: new File([body], "in.jsonl"), purpose: "batch" });
    for (const body of ["", "\n", "\n\n  \n\r\n\t\n", "   ", "\u00a0\n\u3000\n"])
      await expect(upload(body), JSON.stringify(body)).rejects.toMatchObject({
        status: 400,
        error: { message: "The file is empty.", param: "file" },
      });
    // a request among blank lines, or a line of other non-ASCII text, is not empty
    for (const body of ['\n\n{"a":1}\n\n', "日本\n", "\u00a0x"])
      await expect(upload(body), JSON.stringify(body)).resolves.toMatchObject({ object: "file" });
  });
});
