// A verifier's audits and its WASM memory budget, through the engine: the scheduler counted only
// the WASM jobs leased to a node, so a node whose audits held its budget was leased WASM jobs that
// then waited there behind the audits, their lease's time cap running. The audits a node lists in
// its heartbeat now count as used, and those whose verdict is awaited no more are cancelled there.
import type { Store } from "@tessera/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testNode } from "../verification/test-nodes.js";
import type { Engine, SubmitRequest } from "./engine.js";
import { startTestEngine, stopTestEngine, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";

let store: Store;
let engine: Engine;
const clock = 1_000_000;

beforeEach(async () => {
  ({ store, engine } = await startTestEngine(() => clock));
});

afterEach(() => stopTestEngine({ store, engine }));

const submit = (memoryMb: number, requestHash: string) =>
  engine.submit({
    consumerId: "c1",
    spec: testWasmSpec(memoryMb),
    constraints: {},
    requestHash,
    jobClass: "interactive",
    deadlineMs: 600_000,
  } satisfies SubmitRequest);

/** A verifier offering WASM with 4 slots and 100 MiB of WASM memory. */
const verifierNode = () => testNode("op", true, { ...WASM_NODE, wasmMemoryMb: 100 });

const leasesOf = (n: ReturnType<typeof verifierNode>) => n.sent.filter((m) => m.type === "lease").map((m) => m.jobId);

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await turns(1);
}

describe("Engine and the WASM memory a verifier's audits hold", () => {
  it("leases no WASM job into memory the node's audits hold, and leases it once its heartbeat says they ended", async () => {
    const node = verifierNode();
    engine.connect(node.session);
    // a WASM audit of 64 MiB in hand (checking, or waiting for memory ahead of any lease)
    engine.heartbeat(node.session, [], [{ auditId: "aud_1", wasmMemoryMb: 64 }]);
    const fits = await submit(32, "aa".repeat(32));
    await settle();
    expect(leasesOf(node)).toEqual([fits.id]);
    // 64 of the audit + 32 leased: a 16 MiB job no longer fits in 100
    const waits = await submit(16, "bb".repeat(32));
    await settle();
    expect(leasesOf(node)).toEqual([fits.id]);
    expect(engine.activeJob(waits.id)?.status).toBe("queued");

    // the audit ended: the next heartbeat lists none, and the job is leased
    engine.heartbeat(node.session, [{ jobId: fits.id, attempt: 1 }]);
    await settle();
    expect(leasesOf(node)).toEqual([fits.id, waits.id]);
  });

  it("counts a WASM audit's memory used from when it is sent, until the node's heartbeat says what it holds", async () => {
    const node = verifierNode();
    engine.connect(node.session);
    engine.auditSent(node.session.id, "aud_1", 64);
    // sent, not yet listed in a heartbeat: a 64 MiB job would wait on the node behind the audit
    const job = await submit(64, "aa".repeat(32));
    await settle();
    expect(leasesOf(node)).toEqual([]);
    // its heartbeat lists no audit (it ended, or the node lists none): the job is leased
    engine.heartbeat(node.session, []);
    await settle();
    expect(leasesOf(node)).toEqual([job.id]);
  });

  it("cancels on a node an audit its heartbeat lists that was since sent to another verifier, and counts not its memory", async () => {
    const first = verifierNode();
    const second = verifierNode();
    engine.connect(first.session);
    engine.connect(second.session);
    // the first verifier timed out: the audit went to the second one; another audit is the first's alone
    engine.auditSent(first.session.id, "aud_moved");
    engine.auditSent(first.session.id, "aud_live");
    engine.auditSent(second.session.id, "aud_moved");
    const held = [
      { auditId: "aud_moved", wasmMemoryMb: 64 },
      { auditId: "aud_live", wasmMemoryMb: 32 },
      // not known here (sent before a restart): left alone
      { auditId: "aud_unknown", wasmMemoryMb: 4 },
    ];
    engine.heartbeat(first.session, [], held);
    engine.heartbeat(second.session, [], [{ auditId: "aud_moved", wasmMemoryMb: 64 }]);
    expect(first.sent.filter((m) => m.type === "audit_cancel")).toEqual([
      { type: "audit_cancel", auditId: "aud_moved", reason: "this audit's verdict is awaited no more" },
    ]);
    expect(second.sent.filter((m) => m.type === "audit_cancel")).toEqual([]);
    // the first holds 36 MiB for live audits: a 64 MiB job fits there, not on the second
    const job = await submit(64, "aa".repeat(32));
    await settle();
    expect(leasesOf(first)).toEqual([job.id]);
    expect(leasesOf(second)).toEqual([]);
  });
});
