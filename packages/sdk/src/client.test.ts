// The SDK against a real HTTP server on loopback that answers what a gateway, or a proxy in front
// of one, may answer.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TesseraError } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraClient } from "./client.js";

let server: Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push(req.url ?? "");
    if (req.url?.startsWith("/v1/account")) {
      res.writeHead(502, { "content-type": "text/html" }).end("<html><body>Bad Gateway</body></html>");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(req.url?.startsWith("/v1/jobs/") ? JSON.stringify({ id: "j", status: "completed" }) : '{"data":[]}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("TesseraClient", () => {
  it("turns an error page that is not JSON into an error with its status", async () => {
    const client = new TesseraClient({ baseUrl: base, apiKey: "k" });
    const err = await client.account().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(err).toMatchObject({ status: 502 });
  });

  it("sends waits the gateway takes (whole milliseconds, at most its longest) and a limit of 0 as asked", async () => {
    const client = new TesseraClient({ baseUrl: base, apiKey: "k" });
    seen.length = 0;
    await client.getJob("j", { waitMs: 1500.5 });
    await client.getJob("j", { waitMs: 600_000 });
    await client.listJobs({ limit: 0 });
    expect(seen).toEqual(["/v1/jobs/j?wait=1501", "/v1/jobs/j?wait=300000", "/v1/jobs?limit=0"]);
  });
});
