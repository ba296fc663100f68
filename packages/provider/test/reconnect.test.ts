import { Writable } from "node:stream";
import { verifyResultSignature } from "@tessera/protocol";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, fakeLease as lease, startTestProvider, until } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

/** The provider's redials as it logs them: each delay, and whether it held work then. */
function redialLog() {
  const delays: Array<{ delayMs: number; holdingWork?: boolean }> = [];
  const sink = new Writable({
    write(line, _enc, done) {
      const entry = JSON.parse(line.toString());
      if (entry.msg === "gateway connection closed; reconnecting") delays.push(entry);
      done();
    },
  });
  return { delays, logger: pino({ level: "info" }, sink) };
}

describe("provider reconnects", () => {
  it("redials after the gateway drops the socket, with a fresh signed hello", async () => {
    gateway = await FakeGateway.start();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: new ControlledRuntime() } });
    const first = await gateway.session(0);
    first.ws.terminate();
    const second = await gateway.session(1);
    expect(second.helloVerified).toBe(true);
    expect(second.nonce).not.toBe(first.nonce);
    await until(() => provider.stats().sessions === 2 && provider.stats().connected);
  });

  it("slows its redials when every session is dropped right after its welcome", async () => {
    gateway = await FakeGateway.start();
    const { delays, logger } = redialLog();
    await startTestProvider(
      gateway,
      { reconnectInitialMs: 10, reconnectMaxMs: 10_000 },
      { runtimes: { wasm: new ControlledRuntime() }, random: () => 1, logger },
    );
    for (let n = 0; n < 4; n++) {
      const session = await gateway.session(n);
      await session.waitFor("heartbeat"); // welcomed
      session.ws.terminate();
    }
    await gateway.session(4);
    // A welcome does not reset the backoff; only a session that stayed up does (backoff.test.ts).
    expect(delays.map((d) => d.delayMs)).toEqual([10, 20, 40, 80]);
  });

  it("redials within a second while the gateway waits on it for a lease or a result", async () => {
    gateway = await FakeGateway.start({ autoAck: false });
    const { delays, logger } = redialLog();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(
      gateway,
      { reconnectInitialMs: 4_000, reconnectMaxMs: 60_000 },
      { runtimes: { wasm: runtime }, random: () => 1, logger },
    );
    // running a lease: 1 s instead of the 4 s its backoff would say
    const first = await gateway.session(0);
    first.send(lease("j1", 1));
    await runtime.whenStarted("j1");
    first.ws.terminate();
    // done, the result not acked yet: still 1 s, though the backoff is at 8 s now
    const second = await gateway.session(1);
    runtime.finish("j1");
    await second.waitFor("result", (m) => m.jobId === "j1");
    second.ws.terminate();
    // acked, nothing held: the backoff's own 16 s
    const third = await gateway.session(2);
    await third.waitFor("result", (m) => m.jobId === "j1");
    third.send({ type: "ack", jobId: "j1", attempt: 1, accepted: true });
    await until(() => provider.stats().outbox === 0);
    third.ws.terminate();
    await until(() => delays.length === 3);
    expect(delays.map((d) => [d.delayMs, d.holdingWork ?? false])).toEqual([
      [1_000, true],
      [1_000, true],
      [16_000, false],
    ]);
  });

  it("leaves the 1 s ceiling 30 s into an outage, however often the gateway welcomes it and drops it again", async () => {
    gateway = await FakeGateway.start();
    const { delays, logger } = redialLog();
    const runtime = new ControlledRuntime();
    let clock = 0;
    await startTestProvider(
      gateway,
      { reconnectInitialMs: 4_000, reconnectMaxMs: 60_000 },
      {
        runtimes: { wasm: runtime },
        random: () => 1,
        monotonic: () => clock,
        logger,
      },
    );
    const first = await gateway.session(0);
    first.send(lease("j1", 1));
    await runtime.whenStarted("j1");
    first.ws.terminate();
    // welcomed again 29 s into the outage and dropped at once: still inside it
    await until(() => delays.length === 1);
    clock += 29_000;
    (await gateway.session(1)).ws.terminate();
    await until(() => delays.length === 2);
    clock += 1_001;
    (await gateway.session(2)).ws.terminate();
    await until(() => delays.length === 3);
    // still running j1, but past the window: the backoff's own 16 s
    expect(delays.map((d) => [d.delayMs, d.holdingWork ?? false])).toEqual([
      [1_000, true],
      [1_000, true],
      [16_000, false],
    ]);
  });

  it("keeps redialling while the gateway is down", async () => {
    gateway = await FakeGateway.start({ paused: true });
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: new ControlledRuntime() } });
    await until(() => gateway.refused >= 3);
    gateway.paused = false;
    await gateway.session(0);
    await until(() => provider.stats().connected);
  });

  it("resends an unacked result after a reconnect and drops it once acked", async () => {
    gateway = await FakeGateway.start({ autoAck: false });
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const first = await gateway.session(0);
    first.send(lease("j1", 3));
    await runtime.whenStarted("j1");
    runtime.finish("j1");
    const sent = await first.waitFor("result", (m) => m.jobId === "j1");
    expect(provider.stats().outbox).toBe(1);
    first.ws.terminate();

    const second = await gateway.session(1);
    const resent = await second.waitFor("result", (m) => m.jobId === "j1");
    expect(resent).toEqual(sent);
    expect(verifyResultSignature(provider.nodeId, resent, resent.signature)).toBe(true);
    second.send({ type: "ack", jobId: "j1", attempt: 3, accepted: true });
    await until(() => provider.stats().outbox === 0);
    expect(provider.stats().accepted).toBe(1);

    // Acked results are not sent again on the next session.
    second.ws.terminate();
    const third = await gateway.session(2);
    await third.waitFor("heartbeat");
    expect(third.of("result")).toEqual([]);
  });

  it("drops a resent result the gateway answers with accepted:false", async () => {
    gateway = await FakeGateway.start({ autoAck: false });
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const first = await gateway.session(0);
    first.send(lease("j1"));
    await runtime.whenStarted("j1");
    runtime.finish("j1");
    await first.waitFor("result");
    first.ws.terminate();
    const second = await gateway.session(1);
    await second.waitFor("result");
    second.send({ type: "ack", jobId: "j1", attempt: 1, accepted: false, reason: "already settled" });
    await until(() => provider.stats().outbox === 0);
    expect(provider.stats()).toMatchObject({ accepted: 0, rejected: 1 });
    second.ws.terminate();
    const third = await gateway.session(2);
    await third.waitFor("heartbeat");
    expect(third.of("result")).toEqual([]);
  });

  it("keeps a job running across a dropped connection and delivers its result on the new one", async () => {
    gateway = await FakeGateway.start({ heartbeatMs: 10 });
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const first = await gateway.session(0);
    first.send(lease("long", 2));
    await runtime.whenStarted("long");
    first.ws.terminate();
    const second = await gateway.session(1);
    // The first heartbeat of the new session tells the gateway the job still runs.
    const hb = await second.waitFor("heartbeat");
    expect(hb.running).toEqual([{ jobId: "long", attempt: 2 }]);
    expect(runtime.aborted).toEqual([]);
    runtime.finish("long");
    const result = await second.waitFor("result", (m) => m.jobId === "long");
    expect(result.attempt).toBe(2);
    expect(first.of("result")).toEqual([]);
    await until(() => provider.stats().accepted === 1);
  });

  it("keeps a drain across a reconnect: the new session is told again", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const first = await gateway.session(0);
    first.send(lease("j"));
    await runtime.whenStarted("j");
    const drained = provider.drain();
    await first.waitFor("drain");
    first.ws.terminate();
    const second = await gateway.session(1);
    await second.waitFor("drain");
    runtime.finish("j");
    await second.waitFor("result");
    await drained;
    expect((await provider.closed).reason).toBe("drained");
  });

  it("delivers a failure that happened while disconnected after the reconnect", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const first = await gateway.session(0);
    first.send(lease("j"));
    await runtime.whenStarted("j");
    gateway.paused = true;
    first.ws.terminate();
    await until(() => gateway.refused >= 1);
    runtime.finish("j", { kind: "fault", message: "trap" });
    await until(() => provider.stats().outbox === 1);
    gateway.paused = false;
    const second = await gateway.session(1);
    const failure = await second.waitFor("failure");
    expect(failure).toMatchObject({ jobId: "j", attempt: 1, retryable: false, reason: "trap" });
    await until(() => provider.stats().outbox === 0);
  });
});
