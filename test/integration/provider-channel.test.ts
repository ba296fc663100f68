// The provider channel before a hello: anyone can open it, so what an unauthenticated connection
// may cost the gateway is bounded (bytes it may send, connections that may wait at once), and an
// honest provider still gets in.
import { MAX_PENDING_HELLOS, PRE_HELLO_BYTES } from "@tessera/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TestNetwork } from "../helpers/network.js";

describe("provider channel before the hello", () => {
  const net = new TestNetwork();
  const url = () => `ws://127.0.0.1:${net.port}/v1/provider/connect`;

  /** Opens a socket and resolves with it once the gateway's first frame (or its close) arrives. */
  const open = () =>
    new Promise<{ ws: WebSocket; first: string | undefined; closed: Promise<number> }>((resolve, reject) => {
      const ws = new WebSocket(url(), { maxPayload: 1 << 20 });
      const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
      ws.on("error", () => {}); // a refused or cut socket also closes
      ws.once("message", (data) => resolve({ ws, first: data.toString(), closed }));
      ws.once("close", (code) => resolve({ ws, first: undefined, closed: Promise.resolve(code) }));
      ws.once("unexpected-response", () => reject(new Error("no upgrade")));
    });

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0"]);
  }, 120_000);
  afterAll(() => net.stop());

  it("cuts a connection that sends more than a hello's worth before it, without reading the frame", async () => {
    const conns = await Promise.all(Array.from({ length: 8 }, open));
    for (const c of conns) {
      expect(JSON.parse(c.first ?? "{}")).toMatchObject({ type: "challenge" });
      // a valid JSON string under the frame limit, far over what may come before a hello
      c.ws.send(JSON.stringify("x".repeat(64 * PRE_HELLO_BYTES)));
    }
    const codes = await Promise.all(conns.map((c) => c.closed));
    expect(codes.every((code) => code === 1006)).toBe(true); // the TCP connection was dropped
    expect((await fetch(`${net.url}/healthz`)).status).toBe(200);
  });

  it("refuses more waiting connections than the gate allows, and admits again as they go", async () => {
    const waiting = await Promise.all(Array.from({ length: MAX_PENDING_HELLOS }, open));
    expect(waiting.every((c) => c.first?.includes('"challenge"'))).toBe(true);
    const refused = await open();
    expect(refused.first).toBeUndefined();
    expect(await refused.closed).toBe(1013);
    // an honest provider still gets in once the crowd has gone
    for (const c of waiting) c.ws.close();
    await Promise.all(waiting.map((c) => c.closed));
    const next = await open();
    expect(JSON.parse(next.first ?? "{}")).toMatchObject({ type: "challenge" });
    next.ws.close();
    await net.startProvider({ runtimes: ["wasm"] });
    await net.waitForProviders(1);
  }, 120_000);

  it("answers a WebSocket upgrade on any other path with 404 instead of upgrading and closing", async () => {
    for (const path of ["/wrong/path", "/v1/explorer/stream", "/"]) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${net.port}${path}`);
        ws.on("error", () => {});
        ws.once("unexpected-response", (req, res) => {
          req.destroy(); // ws leaves the request to whoever listens for this
          resolve(res.statusCode ?? 0);
        });
        ws.once("open", () => {
          ws.close();
          reject(new Error(`${path} was upgraded`));
        });
      });
      expect(status).toBe(404);
    }
    expect((await fetch(`${net.url}/healthz`)).status).toBe(200);
  });
});
