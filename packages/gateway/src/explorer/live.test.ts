// The live stream over real sockets: a reader that stops reading is cut off once its backlog
// passes the limit, instead of holding everything written to it in the gateway's memory, and
// streams past the cap are refused.
import { connect, type Socket } from "node:net";
import { openStore, type Store } from "@tessera/store";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { Engine } from "../engine/engine.js";
import { createMetrics } from "../metrics.js";
import { LiveHub } from "./live.js";
import type { Sample } from "./sampler.js";

let store: Store;
let app: FastifyInstance;
let hub: LiveHub;
let port: number;
const listeners = new Set<(s: Sample) => void>();
/** samples as the sampler would send them; each about `bytes` long on the wire */
const sample = (bytes: number) => {
  for (const l of listeners) l({ pad: "x".repeat(bytes) } as unknown as Sample);
};

beforeEach(async () => {
  store = await openStore(":memory:");
  const engine = new Engine(store, parseGatewayConfig({ db: ":memory:" }), pino({ level: "silent" }), createMetrics());
  const sampler = {
    onSample: (l: (s: Sample) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  hub = new LiveHub(engine, sampler, 1_000, { maxClients: 2, maxBufferedBytes: 256 * 1024 });
  app = Fastify();
  hub.routes(app);
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as { port: number }).port;
});
afterEach(async () => {
  hub.close();
  await app.close();
  await store.close();
});

/** Opens the stream on a raw socket and waits for its first bytes; `read: false` then stops reading. */
async function open(read: boolean): Promise<{ socket: Socket; closed: Promise<void>; head: string }> {
  const socket = connect(port, "127.0.0.1");
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  socket.write(`GET /v1/explorer/stream HTTP/1.1\r\nHost: x\r\n\r\n`);
  const head = await new Promise<string>((r) => socket.once("data", (d) => r(d.toString())));
  if (!read) socket.pause();
  return { socket, closed, head };
}

describe("live stream", () => {
  it("cuts off a reader that stopped reading once its backlog passes the limit; a reading one stays", async () => {
    const stalled = await open(false);
    const reading = await open(true);
    expect(hub.size).toBe(2);
    // far more than the kernel's socket buffers hold: the rest waits in the gateway
    for (let i = 0; i < 1_000 && hub.size === 2; i++) {
      sample(64 * 1024);
      await new Promise((r) => setImmediate(r));
    }
    // the stalled reader sees its end once it reads again
    stalled.socket.resume();
    await stalled.closed;
    expect(hub.size).toBe(1);
    expect(reading.socket.destroyed).toBe(false);
    reading.socket.destroy();
  });

  it("refuses streams past the cap with 503", async () => {
    const a = await open(true);
    const b = await open(true);
    const c = await open(true);
    expect(c.head).toMatch(/^HTTP\/1.1 503/);
    expect(c.head).toContain("too_many_streams");
    for (const s of [a, b, c]) s.socket.destroy();
  });
});
