// A lean `fetch` for the SDK's TesseraClient in load-generating clients: node:http with a
// keep-alive agent, returning just what the SDK reads (ok, status, text()). Global fetch
// (undici's WHATWG layer) costs a few hundred microseconds of client CPU per request, which on
// a small machine is CPU taken from the gateway being measured.
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 30_000 });

export const httpFetch = ((input: string | URL, init: RequestInit = {}) =>
  new Promise((resolve, reject) => {
    const url = new URL(String(input));
    const body = init.body as string | Uint8Array | undefined;
    const headers: Record<string, string | number> = { ...(init.headers as Record<string, string> | undefined) };
    if (body !== undefined) headers["content-length"] = Buffer.byteLength(body);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: init.method ?? "GET",
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ ok: status >= 200 && status < 300, status, text: async () => text } as unknown as Response);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  })) as typeof fetch;
