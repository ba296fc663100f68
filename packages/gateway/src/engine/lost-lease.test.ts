// A node that still runs a job whose lease it lost (it was away past the disconnect grace, and the
// job was requeued) is told to stop it when a heartbeat names it: left running, the job keeps a
// slot and its WASM memory on the node, which the gateway counts free and leases again.
import type { Store } from "@tessera/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { testNode } from "../verification/test-nodes.js";
import type { Engine } from "./engine.js";
import { startTestEngine, stopTestEngine, sweep, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";

const NODE = { ...WASM_NODE, wasmMemoryMb: 100 };

let store: Store;
let engine: Engine;
let clock = 1_000_000;

beforeEach(async () => {
  ({ store, engine } = await startTestEngine(() => clock));
});

afterEach(() => stopTestEngine({ store, engine }));

describe("a lease lost while its node was away", () => {
  it("is cancelled on the node when its heartbeat names it after reconnecting, and the current one is not", async () => {
    const node = testNode("op", false, NODE);
    engine.connect(node.session);
    const spec = testWasmSpec(64);
    const job = await engine.submit({
      consumerId: "c1",
      spec,
      constraints: {},
      requestHash: "aa".repeat(32),
      jobClass: "interactive",
      deadlineMs: 600_000,
    });
    const leases = () => node.sent.filter((m) => m.type === "lease" && m.jobId === job.id);
    for (let i = 0; i < 100 && leases().length === 0; i++) await turns(1);
    expect(leases()).toHaveLength(1);

    // away past the grace: the lease expires and the job is requeued
    engine.disconnect(node.session);
    clock += parseGatewayConfig({ db: ":memory:" }).disconnectGraceMs + 1;
    await sweep();
    expect(engine.activeJob(job.id)).toMatchObject({ status: "queued" });

    // back, still running attempt 1 (its 64 MiB held); the gateway leases attempt 2 to it
    node.session.online = true;
    engine.connect(node.session);
    for (let i = 0; i < 100 && leases().length < 2; i++) await turns(1);
    expect(engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 2 });
    engine.heartbeat(node.session, [
      { jobId: job.id, attempt: 1 },
      { jobId: job.id, attempt: 2 },
    ]);
    const cancels = node.sent.filter((m) => m.type === "cancel" && m.jobId === job.id);
    expect(cancels).toEqual([{ type: "cancel", jobId: job.id, attempt: 1, reason: expect.any(String) }]);
  });

  it("keeps the slot it fills from new leases when the node says in its hello that it holds leases: none goes out before its heartbeat's cancels", async () => {
    const node = testNode("op", false, { ...NODE, maxConcurrency: 1 });
    engine.connect(node.session);
    const job = await engine.submit({
      consumerId: "c1",
      spec: testWasmSpec(64),
      constraints: {},
      requestHash: "cc".repeat(32),
      jobClass: "interactive",
      deadlineMs: 600_000,
    });
    const leases = () => node.sent.filter((m) => m.type === "lease");
    for (let i = 0; i < 100 && leases().length === 0; i++) await turns(1);
    engine.disconnect(node.session);
    clock += parseGatewayConfig({ db: ":memory:" }).disconnectGraceMs + 1;
    await sweep();
    expect(engine.activeJob(job.id)).toMatchObject({ status: "queued" });

    // back with attempt 1 still running in its only slot (HelloMsg.holding: 1, see channel.ts)
    node.session.online = true;
    node.session.awaitingHeartbeat = true;
    engine.connect(node.session);
    await turns(10);
    expect(leases()).toHaveLength(1);
    expect(engine.activeJob(job.id)).toMatchObject({ status: "queued" });

    engine.heartbeat(node.session, [{ jobId: job.id, attempt: 1 }]);
    for (let i = 0; i < 100 && leases().length < 2; i++) await turns(1);
    const after = node.sent.slice(node.sent.findIndex((m) => m.type === "lease") + 1);
    expect(after.map((m) => [m.type, "attempt" in m ? m.attempt : undefined])).toEqual([
      ["cancel", 1],
      ["lease", 2],
    ]);
  });

  it("is not cancelled for an attempt the gateway has yet to lease: after a crash lost its lease's commit, the node's run of it stands", async () => {
    const spec = testWasmSpec(64);
    // queued, never leased as far as this gateway knows (attempt 0): the next lease is attempt 1,
    // which the node already runs; cancelled, its lease for attempt 1 would be a duplicate of a job
    // still unwinding there, and ignored
    // the node asks more than the job's ceiling: nothing is leased while the test runs
    const node = testNode("op", false, { ...NODE, pricePerUnit: 50 });
    engine.connect(node.session);
    const job = await engine.submit({
      consumerId: "c1",
      spec,
      constraints: { maxPricePerUnit: 10 },
      requestHash: "bb".repeat(32),
      jobClass: "interactive",
      deadlineMs: 600_000,
    });
    await turns(5);
    expect(engine.activeJob(job.id)).toMatchObject({ status: "queued", attempt: 0 });
    engine.heartbeat(node.session, [{ jobId: job.id, attempt: 1 }]);
    expect(node.sent.filter((m) => m.type === "cancel")).toEqual([]);
  });
});
