import { canonicalHash, verifyResultSignature } from "@tessera/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, fakeLease as lease, startTestProvider, until } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("provider jobs", () => {
  it("lists running jobs in heartbeats, and stops listing them once they finish", async () => {
    gateway = await FakeGateway.start({ heartbeatMs: 10 });
    const runtime = new ControlledRuntime();
    await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("j1", 2));
    await runtime.whenStarted("j1");
    await conn.waitFor("heartbeat", (m) => m.running.some((r) => r.jobId === "j1" && r.attempt === 2));
    runtime.finish("j1");
    const result = await conn.waitFor("result", (m) => m.jobId === "j1");
    const after = conn.messages.indexOf(result);
    await conn.waitFor("heartbeat", (m) => conn.messages.indexOf(m) > after);
    const later = conn.of("heartbeat").filter((m) => conn.messages.indexOf(m) > after);
    expect(later.length).toBeGreaterThan(0);
    for (const hb of later) expect(hb.running).toEqual([]);
  });

  it("signs each result over its output hash and units", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("j1"));
    await runtime.whenStarted("j1");
    runtime.finish("j1");
    const r = await conn.waitFor("result");
    expect(r.outputHash).toBe(canonicalHash(r.output));
    expect(verifyResultSignature(provider.nodeId, r, r.signature)).toBe(true);
    expect(r.units.standardUnits).toBe(7);
    await until(() => provider.stats().accepted === 1);
    expect(provider.stats().outbox).toBe(0);
  });

  it("aborts a cancelled job and sends nothing back for it", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("doomed"));
    await runtime.whenStarted("doomed");
    conn.send({ type: "cancel", jobId: "doomed", attempt: 1, reason: "consumer cancelled" });
    // The next job's result comes after anything the provider would have said about the first.
    conn.send(lease("next"));
    await runtime.whenStarted("next");
    runtime.finish("next");
    await conn.waitFor("result", (m) => m.jobId === "next");
    expect(runtime.aborted).toEqual(["doomed"]);
    const aboutDoomed = conn.messages.filter((m) => "jobId" in m && m.jobId === "doomed");
    expect(aboutDoomed).toEqual([]);
    expect(provider.stats()).toMatchObject({ cancelled: 1, running: 0 });
  });

  it("reports a JobFault as a non-retryable failure and other errors as retryable", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("bad-input"));
    conn.send(lease("flaky"));
    await runtime.whenStarted("bad-input");
    await runtime.whenStarted("flaky");
    runtime.finish("bad-input", { kind: "fault", message: "module trapped: unreachable" });
    runtime.finish("flaky", { kind: "error", message: "worker crashed" });
    const fault = await conn.waitFor("failure", (m) => m.jobId === "bad-input");
    const flaky = await conn.waitFor("failure", (m) => m.jobId === "flaky");
    expect(fault).toMatchObject({ retryable: false, reason: "module trapped: unreachable", attempt: 1 });
    expect(flaky).toMatchObject({ retryable: true, reason: "worker crashed" });
  });

  it("answers a lease whose job it cannot read as the job's fault instead of letting it expire", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    const bad = lease("unreadable", 2);
    conn.send({ ...bad, spec: { ...bad.spec, limits: { timeoutMs: -1, maxMemoryMb: 16 } } });
    const failure = await conn.waitFor("failure", (m) => m.jobId === "unreadable");
    expect(failure).toMatchObject({ attempt: 2, retryable: false });
    expect(failure.reason).toContain("spec.limits.timeoutMs");
    // a frame that is not a lease at all is still only logged, and the session goes on
    conn.sendRaw(JSON.stringify({ type: "lease", jobId: 5 }));
    conn.send(lease("fine"));
    await runtime.whenStarted("fine");
    expect(conn.of("failure").map((m) => m.jobId)).toEqual(["unreadable"]);
  });

  it("never runs more than its concurrency and refuses leases beyond it", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, { concurrency: 2 }, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    for (const id of ["a", "b", "c", "d", "e"]) conn.send(lease(id));
    await runtime.whenStarted("a");
    await runtime.whenStarted("b");
    for (const id of ["c", "d", "e"]) {
      const refusal = await conn.waitFor("failure", (m) => m.jobId === id);
      expect(refusal).toMatchObject({ retryable: true, reason: "provider at capacity" });
    }
    expect(runtime.started).toEqual(["a", "b"]);
    // Freed slots take work again.
    runtime.finish("a");
    await conn.waitFor("result", (m) => m.jobId === "a");
    conn.send(lease("f"));
    await runtime.whenStarted("f");
    runtime.finish("b");
    runtime.finish("f");
    await conn.waitFor("result", (m) => m.jobId === "f");
    expect(runtime.peak).toBe(2);
    expect(provider.stats()).toMatchObject({ peakRunning: 2, refused: 3, completed: 3 });
  });

  it("refuses a runtime it does not offer as retryable", async () => {
    gateway = await FakeGateway.start();
    await startTestProvider(gateway, {}, { runtimes: { wasm: new ControlledRuntime() } });
    const conn = await gateway.session(0);
    conn.send({
      type: "lease",
      jobId: "llm-job",
      attempt: 1,
      spec: { runtime: "llm", model: "0".repeat(64), input: { prompt: "hi" } },
      leaseExpiresAt: Date.now() + 10_000,
    });
    const failure = await conn.waitFor("failure");
    expect(failure).toMatchObject({ jobId: "llm-job", retryable: true });
    expect(failure.reason).toMatch(/not offered/);
  });

  it("drains: announces it, refuses new leases, finishes running jobs, delivers results, then closes", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("long"));
    await runtime.whenStarted("long");
    let drained = false;
    const draining = provider.drain().then(() => {
      drained = true;
    });
    await conn.waitFor("drain");
    conn.send(lease("late"));
    const refusal = await conn.waitFor("failure", (m) => m.jobId === "late");
    expect(refusal).toMatchObject({ retryable: true, reason: "provider draining" });
    expect(drained).toBe(false);
    expect(provider.stats().draining).toBe(true);
    runtime.finish("long");
    await conn.waitFor("result", (m) => m.jobId === "long");
    await draining;
    const closed = await conn.closed;
    expect(closed.code).toBe(1000);
    expect(await provider.closed).toEqual({ reason: "drained" });
    expect(runtime.started).toEqual(["long"]);
    expect(provider.stats().accepted).toBe(1);
  });

  it("waits for the ack of a result before a drain completes", async () => {
    gateway = await FakeGateway.start({ autoAck: false });
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("j"));
    await runtime.whenStarted("j");
    runtime.finish("j");
    await conn.waitFor("result");
    let drained = false;
    const draining = provider.drain().then(() => {
      drained = true;
    });
    await conn.waitFor("drain");
    expect(drained).toBe(false);
    conn.send({ type: "ack", jobId: "j", attempt: 1, accepted: true });
    await draining;
    expect((await conn.closed).code).toBe(1000);
  });

  it("stop aborts running jobs and closes at once", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(lease("j"));
    await runtime.whenStarted("j");
    await provider.stop();
    expect(runtime.aborted).toEqual(["j"]);
    expect(await provider.closed).toEqual({ reason: "stopped" });
    await conn.closed;
    expect(conn.of("result")).toEqual([]);
    expect(conn.of("failure")).toEqual([]);
  });
});
