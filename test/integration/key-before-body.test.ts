// A request with a body is refused for a missing or unknown key before its body is read. Fastify
// reads and buffers a body before the handler runs, so the blob route read up to 64 MiB from
// anyone, and only then answered 401: sixteen anonymous 60 MiB uploads at once took a gateway
// from 270 MB to 840 MB resident. Against a gateway started in this process on an in-memory store.
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import type { GatewayHandle } from "@tessera/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";

/** Sends the headers and a few bytes of a body that says it is `length` bytes, and returns the answer's head. */
function headOfAnswer(url: string, path: string, headers: Record<string, string>, length: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(got); // no answer while the body is unsent: ""
    }, 3_000);
    socket.on("error", reject);
    socket.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n\r\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got);
      }
    });
    const lines = [`POST ${path} HTTP/1.1`, `Host: ${hostname}`, `Content-Length: ${length}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.write(`${lines.join("\r\n")}\r\n\r\n{"runtime`);
  });
}

describe("key before body", () => {
  let gw: GatewayHandle;
  let apiKey: string;

  beforeAll(async () => {
    ({ gw, apiKey } = await gatewayInProcess({}, { name: "uploader" }));
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("answers 401 to a request with a body, no key or an unknown one, while its body is still unsent", async () => {
    const blob = { "content-type": "application/octet-stream" };
    const json = { "content-type": "application/json" };
    for (const [path, headers, length] of [
      ["/v1/blobs", blob, 60 * 1024 * 1024],
      ["/v1/blobs", { ...blob, authorization: "Bearer tsk_made_up" }, 60 * 1024 * 1024],
      ["/v1/jobs", json, 7 * 1024 * 1024],
      ["/v1/jobs", { ...json, authorization: "Bearer tsk_made_up" }, 7 * 1024 * 1024],
      ["/v1/chat/completions", json, 7 * 1024 * 1024],
      ["/v1/completions", { ...json, authorization: "Bearer tsk_made_up" }, 7 * 1024 * 1024],
      ["/v1/batches", json, 7 * 1024 * 1024],
      // the admin routes, for a key that is not the admin's (a consumer's included)
      ["/v1/admin/consumers", json, 7 * 1024 * 1024],
      ["/v1/admin/deposits", { ...json, authorization: "Bearer tsk_made_up" }, 7 * 1024 * 1024],
      ["/v1/admin/keys/revoke", { ...json, authorization: `Bearer ${apiKey}` }, 7 * 1024 * 1024],
    ] as const) {
      const head = await headOfAnswer(gw.url, path, headers, length);
      expect(head, `${path} ${JSON.stringify(headers)}`).toMatch(/^HTTP\/1\.1 401 /);
      // the rest of the body is not read: the connection ends with the answer
      expect(head.toLowerCase()).toContain("connection: close");
    }
    // a whole anonymous request gets the same answer, in OpenAI's shape
    const r = await fetch(`${gw.url}/v1/blobs`, { method: "POST", headers: blob, body: Buffer.from("abc") });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
  }, 30_000);

  it("still takes uploads and jobs with a key", async () => {
    const bytes = randomBytes(1024);
    const r = await fetch(`${gw.url}/v1/blobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ bytes: 1024 });
    // a job body reaches validation (this gateway has no node: the module is unknown, a 404 after the key)
    const j = await fetch(`${gw.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ runtime: "wasm", module: "0".repeat(64), input: { data: "" } }),
    });
    expect(j.status).toBe(404);
  });
});
