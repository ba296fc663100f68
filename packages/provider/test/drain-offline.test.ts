// Draining while the gateway is unreachable: a batch lease given back cannot be sent, so it is
// kept and sent on the next session (left unsent, the lease would expire, using an attempt and
// counting against the node), and the drain completes only once it is out.
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, fakeLease, startTestProvider, until } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("drain while the gateway is down", () => {
  it("keeps the release of a batch lease and sends it after the reconnect before it exits", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const warnings: string[] = [];
    const sink = new Writable({
      write(line, _enc, done) {
        const entry = JSON.parse(line.toString());
        if (entry.level === 40) warnings.push(entry.msg);
        done();
      },
    });
    const provider = await startTestProvider(
      gateway,
      {},
      { runtimes: { wasm: runtime }, logger: pino({ level: "warn" }, sink) },
    );
    const first = await gateway.session(0);
    first.send({ ...fakeLease("b1", 2), interruptible: true });
    await runtime.whenStarted("b1");

    gateway.paused = true; // down: the socket drops and redials are refused
    first.ws.terminate();
    await until(() => !provider.stats().connected && gateway.refused >= 1);

    let drained = false;
    const draining = provider.drain().then(() => {
      drained = true;
    });
    await until(() => runtime.aborted.includes("b1"));
    expect(provider.stats()).toMatchObject({ released: 1, outbox: 1 });
    expect(warnings.some((m) => m.includes("release kept"))).toBe(true);
    expect(first.of("release")).toEqual([]);
    expect(drained).toBe(false);

    gateway.paused = false;
    const second = await gateway.session(1);
    const release = await second.waitFor("release");
    expect(release).toMatchObject({ jobId: "b1", attempt: 2, reason: "provider draining" });
    // told of the drain first, so nothing new is leased to it meanwhile
    expect(second.messages.findIndex((m) => m.type === "drain")).toBeLessThan(second.messages.indexOf(release));
    await draining;
    expect((await provider.closed).reason).toBe("drained");
  });

  it("says in the log that a kept release was never delivered when it is stopped first", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const warnings: Array<{ msg: string; jobId?: string }> = [];
    const sink = new Writable({
      write(line, _enc, done) {
        const entry = JSON.parse(line.toString());
        if (entry.level === 40) warnings.push(entry);
        done();
      },
    });
    const provider = await startTestProvider(
      gateway,
      {},
      { runtimes: { wasm: runtime }, logger: pino({ level: "warn" }, sink) },
    );
    const first = await gateway.session(0);
    first.send({ ...fakeLease("b2"), interruptible: true });
    await runtime.whenStarted("b2");
    gateway.paused = true;
    first.ws.terminate();
    await until(() => !provider.stats().connected);
    void provider.drain();
    await until(() => provider.stats().outbox === 1);
    await provider.stop(); // the operator's second signal
    expect(warnings.some((w) => w.jobId === "b2" && w.msg.includes("before this release reached the gateway"))).toBe(
      true,
    );
  });
});

describe("giving batch leases back while connected", () => {
  // the gateway must hear that the node takes no work before the leases come back, or it leases
  // them straight back to the node that is giving them up
  it("tells the gateway of a pause, and of a drain, before the releases", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, { concurrency: 2 }, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send({ ...fakeLease("p1"), interruptible: true });
    await runtime.whenStarted("p1");
    provider.pause(true);
    const paused = await conn.waitFor("release", (m) => m.jobId === "p1");
    const pause = await conn.waitFor("pause");
    expect(pause.paused).toBe(true);
    expect(conn.messages.indexOf(pause)).toBeLessThan(conn.messages.indexOf(paused));

    provider.pause(false);
    conn.send({ ...fakeLease("d1"), interruptible: true });
    await runtime.whenStarted("d1");
    const draining = provider.drain();
    const released = await conn.waitFor("release", (m) => m.jobId === "d1");
    const drain = await conn.waitFor("drain");
    expect(conn.messages.indexOf(drain)).toBeLessThan(conn.messages.indexOf(released));
    await draining;
  });
});
