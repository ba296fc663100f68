// A gateway that stood still (SIGSTOP, a paused VM, a starved host) heard none of the heartbeats
// its nodes sent meanwhile. Its leases get the restart grace instead of expiring on the spot, so
// the work still running on the nodes is not thrown away, counted against them and charged to
// its jobs' attempts; an ordinary sweep still expires a lease that no heartbeat renewed.
import { MIN_STALL_MS } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { testNode } from "../verification/test-nodes.js";
import { clockedEngine, sweep, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";

const { leaseMs, restartGraceMs, heartbeatMs } = parseGatewayConfig({ db: ":memory:" });

const t = clockedEngine();

async function leasedJob() {
  const node = testNode("op", false, WASM_NODE);
  t.engine.connect(node.session);
  t.engine.heartbeat(node.session, []);
  const job = await t.engine.submit({
    consumerId: "c1",
    spec: testWasmSpec(),
    constraints: {},
    requestHash: "dd".repeat(32),
    jobClass: "interactive",
    deadlineMs: 600_000,
  });
  for (let i = 0; i < 100 && t.engine.activeJob(job.id)?.status !== "running"; i++) await turns(1);
  expect(t.engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 1 });
  return { node, job };
}

describe("a gateway that stalled", () => {
  it("gives running leases the restart grace instead of expiring them, then expires them as usual", async () => {
    const { node, job } = await leasedJob();
    // stopped past the lease: no heartbeat was heard meanwhile
    t.now += leaseMs + 1;
    t.monotonic += leaseMs + 1;
    await sweep();
    expect(t.engine.activeJob(job.id)).toMatchObject({
      status: "running",
      attempt: 1,
      leaseExpiresAt: t.now + restartGraceMs,
    });
    expect(node.session.failed).toBe(0);

    // no heartbeat within the grace either: expired and counted against the node, which, silent
    // all along, is leased nothing until it is heard; then it gets the job again as attempt 2
    t.now += restartGraceMs + 1;
    await sweep();
    expect(t.engine.activeJob(job.id)).toMatchObject({ status: "queued", attempt: 1 });
    expect(node.session.failed).toBe(1);
    t.engine.heard(node.session);
    for (let i = 0; i < 100 && t.engine.activeJob(job.id)?.status !== "running"; i++) await turns(1);
    expect(t.engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 2 });
  });

  it("is not a stall when sweeps come no later than a heartbeat period", async () => {
    const { node, job } = await leasedJob();
    t.now += leaseMs + 1;
    t.monotonic += Math.max(heartbeatMs, MIN_STALL_MS) - 1;
    await sweep();
    expect(t.engine.activeJob(job.id)).toMatchObject({ attempt: 2 });
    expect(node.session.failed).toBe(1);
  });
});
