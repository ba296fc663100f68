// A node none of whose frames the gateway read for a while (frozen, a laptop asleep with its socket
// open, a network dropping packets) is leased nothing until it is heard again: a lease to it would
// wait out the lease and cost its job an attempt.
import { silentAfterMs } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { testNode } from "../verification/test-nodes.js";
import { clockedEngine, sweep, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";

const quietLimitMs = silentAfterMs(parseGatewayConfig({ db: ":memory:" }).heartbeatMs);

const t = clockedEngine();

async function submit(hash: string) {
  return t.engine.submit({
    consumerId: "c1",
    spec: testWasmSpec(),
    constraints: {},
    requestHash: hash.repeat(32),
    jobClass: "interactive",
    deadlineMs: 600_000,
  });
}

async function settle(done: () => boolean) {
  for (let i = 0; i < 100 && !done(); i++) await turns(1);
}

describe("a provider the gateway has not heard from", () => {
  it("is leased nothing while silent, and is leased to as soon as a frame of it is read", async () => {
    const node = testNode("op", false, WASM_NODE);
    t.engine.connect(node.session);
    t.engine.heartbeat(node.session, []);
    t.monotonic += quietLimitMs + 1;
    // two sweeps: the jump alone reads as this process's own stall, which marks no one
    await sweep();
    await sweep();
    expect(node.session.silent).toBe(true);

    const job = await submit("e1");
    await settle(() => t.engine.activeJob(job.id)?.status === "running");
    expect(t.engine.activeJob(job.id)).toMatchObject({ status: "queued" });
    expect(node.sent.filter((m) => m.type === "lease")).toHaveLength(0);

    t.engine.heard(node.session);
    expect(node.session.silent).toBe(false);
    await settle(() => t.engine.activeJob(job.id)?.status === "running");
    expect(t.engine.activeJob(job.id)).toMatchObject({ status: "running", providerId: node.session.id });
  });

  it("is not silent when heard within the window, while a node that was not is passed over", async () => {
    const heard = testNode("op-a", false, WASM_NODE);
    // the node the scheduler would pick, on price, were it not silent
    const quiet = testNode("op-b", false, { ...WASM_NODE, pricePerUnit: WASM_NODE.pricePerUnit / 2 });
    // one that never sent a heartbeat has no rhythm to miss
    const bare = testNode("op-c", false, WASM_NODE);
    for (const n of [heard, quiet, bare]) t.engine.connect(n.session);
    t.engine.heartbeat(heard.session, []);
    t.engine.heartbeat(quiet.session, []);
    t.monotonic += quietLimitMs - 1_000;
    t.engine.heard(heard.session);
    t.monotonic += 1_001;
    await sweep();
    await sweep();
    expect([heard.session.silent, quiet.session.silent, bare.session.silent]).toEqual([false, true, false]);
    t.engine.disconnect(bare.session);

    const job = await submit("e2");
    await settle(() => t.engine.activeJob(job.id)?.status === "running");
    expect(t.engine.activeJob(job.id)).toMatchObject({ status: "running", providerId: heard.session.id });
  });
});
