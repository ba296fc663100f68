// A verifier's audits and the gateway: the WASM memory its audits hold or wait for was known only
// to the node, so the gateway leased WASM jobs into it (they waited on the node behind the audit,
// their lease's time cap running); and an audit the gateway no longer waited on (decided, or given
// to another verifier) could not be called off: it kept its place in the memory queue, ahead of
// leased jobs, and ran for a verdict no one took. Heartbeats now list the audits in hand with their
// memory (at once when a WASM audit comes or ends), and an audit_cancel drops one, sending nothing.
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledVerifier, fakeAudit, fakeSpec, memoryLease, startTestProvider } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

async function verifier(budgetMb: number) {
  // heartbeats on the interval only once a minute: any other heartbeat is one the node sent at once
  gateway = await FakeGateway.start({ heartbeatMs: 60_000 });
  const runtime = new ControlledVerifier();
  const provider = await startTestProvider(
    gateway,
    { concurrency: 2, wasmMemoryBudgetMb: budgetMb, verify: true },
    { runtimes: { wasm: runtime } },
  );
  const conn = await gateway.session(0);
  await conn.waitFor("heartbeat");
  return { runtime, provider, conn };
}

describe("a verifier's audits in its heartbeats", () => {
  it("lists each audit in hand with the WASM memory it holds or waits for, at once as one comes and ends", async () => {
    const { runtime, conn } = await verifier(100);
    /** the audits listed by the heartbeats sent from now on, in order */
    const listed = () => {
      const from = conn.of("heartbeat").length;
      return () =>
        conn
          .of("heartbeat")
          .slice(from)
          .map((m) => m.audits ?? []);
    };
    let since = listed();
    conn.send(fakeAudit("audit-1", "audited-1", fakeSpec("audited-1", 64)));
    await expect.poll(since).toEqual([[{ auditId: "audit-1", wasmMemoryMb: 64 }]]);
    await expect.poll(() => runtime.verifying).toEqual(["audited-1"]);

    // one waiting for memory is listed too: it is ahead of any lease to come
    since = listed();
    conn.send(fakeAudit("audit-2", "audited-2", fakeSpec("audited-2", 48)));
    await expect.poll(since).toEqual([
      [
        { auditId: "audit-1", wasmMemoryMb: 64 },
        { auditId: "audit-2", wasmMemoryMb: 48 },
      ],
    ]);

    since = listed();
    runtime.endAudit("audited-1");
    await conn.waitFor("verdict", (m) => m.auditId === "audit-1");
    await expect.poll(since).toEqual([[{ auditId: "audit-2", wasmMemoryMb: 48 }]]);
    await expect.poll(() => runtime.verifying).toEqual(["audited-1", "audited-2"]);

    // the last one gone: a heartbeat without audits
    since = listed();
    runtime.endAudit("audited-2");
    await conn.waitFor("verdict", (m) => m.auditId === "audit-2");
    await expect.poll(since).toEqual([[]]);
    expect(conn.of("heartbeat").at(-1)).toEqual({ type: "heartbeat", running: [] });
  });
});

describe("an audit the gateway cancels (audit_cancel)", () => {
  it("waiting for memory: never runs, sends no verdict, and the lease behind it takes its turn", async () => {
    const { runtime, provider, conn } = await verifier(100);
    conn.send(memoryLease("a", 64));
    await runtime.whenStarted("a");
    conn.send(fakeAudit("audit-1", "audited", fakeSpec("audited", 64)));
    await expect.poll(() => provider.stats().wasmMemory.waiting).toBe(1);
    conn.send(memoryLease("b", 32));
    await expect.poll(() => provider.stats().wasmMemory.waiting).toBe(2);

    conn.send({ type: "audit_cancel", auditId: "audit-1", reason: "decided" });
    // b fits beside a once the audit ahead of it is gone
    await runtime.whenStarted("b");
    runtime.finish("a");
    runtime.finish("b");
    await conn.waitFor("result", (m) => m.jobId === "a");
    await conn.waitFor("result", (m) => m.jobId === "b");
    expect(runtime.verifying).toEqual([]);
    expect(conn.of("verdict")).toEqual([]);
    expect(provider.stats()).toMatchObject({
      audits: { held: 0, audited: 0, cancelled: 1 },
      wasmMemory: { inUseMb: 0, peakMb: 96, waiting: 0 },
    });
  });

  it("checking: is aborted, sends no verdict, and gives its memory back", async () => {
    const { runtime, provider, conn } = await verifier(100);
    conn.send(fakeAudit("audit-1", "audited", fakeSpec("audited", 64)));
    await expect.poll(() => runtime.verifying).toEqual(["audited"]);
    conn.send(memoryLease("a", 64));
    await expect.poll(() => provider.stats().wasmMemory.waiting).toBe(1);

    conn.send({ type: "audit_cancel", auditId: "audit-1", reason: "given to another verifier" });
    await runtime.whenStarted("a");
    expect(runtime.abortedAudits).toEqual(["audited"]);
    runtime.finish("a");
    await conn.waitFor("result", (m) => m.jobId === "a");
    expect(conn.of("verdict")).toEqual([]);
    expect(provider.stats()).toMatchObject({ audits: { held: 0, cancelled: 1 }, wasmMemory: { inUseMb: 0 } });
  });

  it("of an audit not in hand (already answered) changes nothing", async () => {
    const { runtime, provider, conn } = await verifier(100);
    conn.send(fakeAudit("audit-1", "audited", fakeSpec("audited", 64)));
    await expect.poll(() => runtime.verifying).toEqual(["audited"]);
    runtime.endAudit("audited");
    await conn.waitFor("verdict", (m) => m.auditId === "audit-1");
    conn.send({ type: "audit_cancel", auditId: "audit-1", reason: "late" });
    conn.send(fakeAudit("audit-2", "audited-2", fakeSpec("audited-2", 64)));
    await expect.poll(() => runtime.verifying).toEqual(["audited", "audited-2"]);
    runtime.endAudit("audited-2");
    await conn.waitFor("verdict", (m) => m.auditId === "audit-2");
    expect(provider.stats().audits).toEqual({ held: 0, audited: 2, cancelled: 0 });
  });
});
