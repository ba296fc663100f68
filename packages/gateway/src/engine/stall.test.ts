// A gateway that stood still (SIGSTOP, a paused VM, a starved host) heard none of the heartbeats
// its nodes sent meanwhile. Its leases get the restart grace instead of expiring on the spot, so
// the work still running on the nodes is not thrown away, counted against them and charged to
// its jobs' attempts; an ordinary sweep still expires a lease that no heartbeat renewed.
import type { Store } from "@tessera/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { testNode } from "../verification/test-nodes.js";
import { type Engine, MIN_STALL_MS } from "./engine.js";
import { startTestEngine, stopTestEngine, sweep, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";

const { leaseMs, restartGraceMs, heartbeatMs } = parseGatewayConfig({ db: ":memory:" });

let store: Store;
let engine: Engine;
let clock = 1_000_000;
/** the engine's monotonic clock: it moves only when a test says the process stood still */
let monotonic = 0;

beforeEach(async () => {
  monotonic = 0;
  ({ store, engine } = await startTestEngine(
    () => clock,
    {},
    () => monotonic,
  ));
});

afterEach(() => stopTestEngine({ store, engine }));

async function leasedJob() {
  const node = testNode("op", false, WASM_NODE);
  engine.connect(node.session);
  const job = await engine.submit({
    consumerId: "c1",
    spec: testWasmSpec(),
    constraints: {},
    requestHash: "dd".repeat(32),
    jobClass: "interactive",
    deadlineMs: 600_000,
  });
  for (let i = 0; i < 100 && engine.activeJob(job.id)?.status !== "running"; i++) await turns(1);
  expect(engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 1 });
  return { node, job };
}

describe("a gateway that stalled", () => {
  it("gives running leases the restart grace instead of expiring them, then expires them as usual", async () => {
    const { node, job } = await leasedJob();
    // stopped past the lease: no heartbeat was heard meanwhile
    clock += leaseMs + 1;
    monotonic += leaseMs + 1;
    await sweep();
    expect(engine.activeJob(job.id)).toMatchObject({
      status: "running",
      attempt: 1,
      leaseExpiresAt: clock + restartGraceMs,
    });
    expect(node.session.failed).toBe(0);

    // no heartbeat within the grace either: expired, counted against the node, and (the node
    // still being connected) leased again as attempt 2
    clock += restartGraceMs + 1;
    await sweep();
    expect(engine.activeJob(job.id)).toMatchObject({ attempt: 2 });
    expect(node.session.failed).toBe(1);
  });

  it("is not a stall when sweeps come no later than a heartbeat period", async () => {
    const { node, job } = await leasedJob();
    clock += leaseMs + 1;
    monotonic += Math.max(heartbeatMs, MIN_STALL_MS) - 1;
    await sweep();
    expect(engine.activeJob(job.id)).toMatchObject({ attempt: 2 });
    expect(node.session.failed).toBe(1);
  });
});
