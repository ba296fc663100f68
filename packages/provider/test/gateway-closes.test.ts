// How the provider reads the ways a gateway (or something else at --gateway) closes its socket:
// a session replaced by another process with the same key stops it for good; a socket closed
// before any handshake says that --gateway may be wrong.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, startTestProvider, tempDir, until } from "./helpers.js";

let gateway: FakeGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

function logSink(level: string) {
  const entries: Array<Record<string, unknown> & { msg: string; level: number }> = [];
  const sink = new Writable({
    write(line, _enc, done) {
      entries.push(JSON.parse(line.toString()));
      done();
    },
  });
  return { entries, logger: pino({ level }, sink) };
}

describe("gateway closes", () => {
  it("stops for good, naming the key file, when its authenticated session is replaced (4003)", async () => {
    gateway = await FakeGateway.start();
    const keyFile = `${tempDir()}/shared-key.json`;
    const { entries, logger } = logSink("info");
    const provider = await startTestProvider(
      gateway,
      { keyFile },
      { runtimes: { wasm: new ControlledRuntime() }, logger },
    );
    const session = await gateway.session(0);
    await session.waitFor("heartbeat"); // welcomed
    session.ws.close(4003, "replaced by a newer connection");
    const exit = await provider.closed;
    expect(exit.reason).toBe("key_in_use");
    expect(exit.message).toContain(keyFile);
    expect(exit.message).toContain("same node key");
    const error = entries.find((e) => e.level === 50);
    expect(error?.msg).toContain(keyFile);
    // Longer than several backoff rounds of this provider (5..20 ms): still one connection.
    await new Promise((r) => setTimeout(r, 150));
    expect(gateway.connections).toHaveLength(1);
  });

  it("keeps redialling when a 4003 comes before it was welcomed", async () => {
    gateway = await FakeGateway.start();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: new ControlledRuntime() } });
    const first = await gateway.connection(0);
    first.ws.close(4003, "replaced by a newer connection"); // the challenge is out, no hello answered yet
    await gateway.session(1);
    await until(() => provider.stats().connected);
  });

  it("warns, with a hint about --gateway, when something takes the upgrade and closes before any handshake", async () => {
    // what a gateway does with a wrong path: accepts the upgrade, then closes (1005)
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    let accepted = 0;
    wss.on("connection", (ws) => {
      accepted++;
      ws.close();
    });
    await new Promise((r) => wss.once("listening", r));
    const port = (wss.address() as AddressInfo).port;
    const { entries, logger } = logSink("warn");
    const fake = { url: `ws://127.0.0.1:${port}/wrong/path` } as FakeGateway;
    const provider = await startTestProvider(fake, {}, { runtimes: { wasm: new ControlledRuntime() }, logger });
    try {
      await until(() => accepted >= 9); // the 8th close was handled before the 9th dial
      const hints = entries.filter((e) => e.msg.includes("closed before the handshake"));
      expect(hints[0]?.msg).toContain("--gateway");
      expect(hints[0]?.level).toBe(40);
      expect(hints[0]?.url).toBe(`ws://127.0.0.1:${port}/wrong/path/v1/provider/connect`);
      // the first time, then ever more rarely
      expect(hints.map((e) => e.closedInARow).slice(0, 4)).toEqual([1, 2, 4, 8]);
    } finally {
      await provider.stop();
      await new Promise((r) => wss.close(r));
    }
  });

  it("gives the same hint when the upgrade is answered with an HTTP error, as the gateway's 404 for a wrong path", async () => {
    let refused = 0;
    const server = createServer((_req, res) => res.writeHead(404).end());
    server.on("upgrade", (_req, socket) => {
      refused++;
      socket.on("error", () => {}); // the provider may cut it first
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const { entries, logger } = logSink("warn");
    const fake = { url: `ws://127.0.0.1:${port}/wrong/path` } as FakeGateway;
    const provider = await startTestProvider(fake, {}, { runtimes: { wasm: new ControlledRuntime() }, logger });
    try {
      await until(() => refused >= 5);
      const hints = entries.filter((e) => e.msg.includes("before the handshake"));
      expect(hints[0]?.msg).toContain("refused (HTTP 404)");
      expect(hints[0]?.msg).toContain("--gateway");
      expect(hints.map((e) => e.closedInARow).slice(0, 3)).toEqual([1, 2, 4]);
      // said with the hint, not also as a bare error on every dial
      expect(entries.filter((e) => e.msg === "gateway connection error")).toEqual([]);
    } finally {
      await provider.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
