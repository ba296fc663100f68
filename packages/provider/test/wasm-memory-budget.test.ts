// The provider-wide WASM memory budget (--wasm-memory-budget): the memory limits of the WASM jobs
// (and audits) running at once never add up to more than it; the rest wait their turn, leases kept.
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import {
  ControlledRuntime,
  ControlledVerifier,
  fakeAudit,
  fakeSpec,
  memoryLease,
  startTestProvider,
} from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("provider WASM memory budget", () => {
  it("runs WASM jobs only while their memory limits fit the budget, in lease order, heartbeating the waiting ones", async () => {
    gateway = await FakeGateway.start({ heartbeatMs: 10 });
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(
      gateway,
      { concurrency: 4, wasmMemoryBudgetMb: 100 },
      { runtimes: { wasm: runtime } },
    );
    const conn = await gateway.session(0);
    conn.send(memoryLease("a", 64));
    conn.send(memoryLease("b", 64));
    // fits beside a, but b is ahead of it
    conn.send(memoryLease("c", 16));
    await runtime.whenStarted("a");
    // the waiting jobs' leases are kept: heartbeats name them
    const beat = await conn.waitFor("heartbeat", (m) => m.running.length === 3);
    expect(beat.running.map((r) => r.jobId).sort()).toEqual(["a", "b", "c"]);
    expect(runtime.started).toEqual(["a"]);
    expect(provider.stats()).toMatchObject({
      running: 3,
      waitingForMemory: 2,
      refused: 0,
      wasmMemory: { budgetMb: 100, inUseMb: 64, waiting: 2 },
    });

    runtime.finish("a");
    await runtime.whenStarted("b");
    await runtime.whenStarted("c");
    expect(runtime.started).toEqual(["a", "b", "c"]);
    runtime.finish("b");
    runtime.finish("c");
    await conn.waitFor("result", (m) => m.jobId === "c");
    await conn.waitFor("result", (m) => m.jobId === "b");
    expect(conn.of("failure")).toEqual([]);
    expect(provider.stats()).toMatchObject({
      completed: 3,
      waitingForMemory: 0,
      wasmMemory: { inUseMb: 0, peakMb: 80, waiting: 0 },
    });
  });

  it("refuses a WASM job whose memory limit is larger than the whole budget, naming the budget, instead of waiting forever", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(gateway, { wasmMemoryBudgetMb: 100 }, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(memoryLease("huge", 4096));
    const outcome = await Promise.race([
      conn.waitFor("failure", (m) => m.jobId === "huge"),
      runtime.whenStarted("huge").then(() => "started" as const),
    ]);
    expect(outcome).toEqual({
      type: "failure",
      jobId: "huge",
      attempt: 1,
      retryable: true,
      reason:
        "the wasm job's memory limit of 4096 MiB exceeds this provider's WASM memory budget of 100 MiB (--wasm-memory-budget)",
    });
    expect(provider.stats()).toMatchObject({ refused: 1, running: 0 });
  });

  it("a job cancelled while it waits for memory never runs, and the job behind it takes its turn", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(
      gateway,
      { concurrency: 3, wasmMemoryBudgetMb: 100 },
      { runtimes: { wasm: runtime } },
    );
    const conn = await gateway.session(0);
    conn.send(memoryLease("a", 64));
    conn.send(memoryLease("b", 64));
    conn.send(memoryLease("c", 32));
    await runtime.whenStarted("a");
    conn.send({ type: "cancel", jobId: "b", attempt: 1, reason: "consumer cancelled" });
    await runtime.whenStarted("c");
    expect(runtime.started).toEqual(["a", "c"]);
    runtime.finish("a");
    runtime.finish("c");
    await conn.waitFor("result", (m) => m.jobId === "a");
    await conn.waitFor("result", (m) => m.jobId === "c");
    expect(conn.messages.filter((m) => "jobId" in m && m.jobId === "b")).toEqual([]);
    expect(provider.stats()).toMatchObject({ cancelled: 1, running: 0, wasmMemory: { inUseMb: 0, peakMb: 96 } });
  });

  it("a batch lease waiting for memory is given back when the owner pauses", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(
      gateway,
      { concurrency: 2, wasmMemoryBudgetMb: 100 },
      { runtimes: { wasm: runtime } },
    );
    const conn = await gateway.session(0);
    conn.send(memoryLease("a", 64));
    conn.send(memoryLease("batch", 64, { interruptible: true }));
    await runtime.whenStarted("a");
    provider.pause(true);
    await conn.waitFor("release", (m) => m.jobId === "batch");
    runtime.finish("a");
    await conn.waitFor("result", (m) => m.jobId === "a");
    expect(runtime.started).toEqual(["a"]);
    expect(provider.stats()).toMatchObject({ running: 0, released: 1, wasmMemory: { inUseMb: 0, waiting: 0 } });
  });

  it("WASM audits share the budget with leased jobs", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledVerifier();
    const provider = await startTestProvider(
      gateway,
      { concurrency: 2, wasmMemoryBudgetMb: 100, verify: true },
      { runtimes: { wasm: runtime } },
    );
    const conn = await gateway.session(0);
    conn.send(memoryLease("a", 64));
    await runtime.whenStarted("a");

    conn.send(fakeAudit("audit-1", "audited", fakeSpec("audited", 64)));
    // the audit waits for a's memory; a lease behind it waits behind it
    await expect.poll(() => provider.stats().wasmMemory.waiting).toBe(1);
    conn.send(memoryLease("b", 16));
    await expect.poll(() => provider.stats().wasmMemory.waiting).toBe(2);
    expect(runtime.verifying).toEqual([]);
    expect(runtime.started).toEqual(["a"]);

    runtime.finish("a");
    await expect.poll(() => runtime.verifying).toEqual(["audited"]);
    await runtime.whenStarted("b");
    runtime.endAudit("audited");
    const verdict = await conn.waitFor("verdict", (m) => m.auditId === "audit-1");
    expect(verdict.report.pass).toBe(true);
    runtime.finish("b");
    await conn.waitFor("result", (m) => m.jobId === "b");
    expect(provider.stats().wasmMemory).toMatchObject({ inUseMb: 0, peakMb: 80, waiting: 0 });
  });
});
