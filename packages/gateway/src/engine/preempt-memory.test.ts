// Preemption and a node's WASM memory budget, through the engine: a batch job holding the memory a
// waiting interactive WASM job needs is taken back for it, though the node has slots free.
import type { Store } from "@tessera/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testNode } from "../verification/test-nodes.js";
import type { Engine, SubmitRequest } from "./engine.js";
import { startTestEngine, stopTestEngine, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";

let store: Store;
let engine: Engine;
let clock = 1_000_000;

beforeEach(async () => {
  ({ store, engine } = await startTestEngine(() => clock, { preemptAfterMs: 1_000 }));
});

afterEach(() => stopTestEngine({ store, engine }));

const submit = (jobClass: "batch" | "interactive", requestHash: string) =>
  engine.submit({
    consumerId: "c1",
    spec: testWasmSpec(64),
    constraints: {},
    requestHash,
    jobClass,
    deadlineMs: 600_000,
  } satisfies SubmitRequest);

describe("preemption for a WASM job short of memory", () => {
  it("takes back the batch job holding the memory, and leases the waiting job in its place", async () => {
    // 4 slots, 100 MiB: a 64 MiB batch job leaves no room for a 64 MiB interactive one
    const node = testNode("op", false, { ...WASM_NODE, wasmMemoryMb: 100 });
    engine.connect(node.session);
    const leases = () => node.sent.filter((m) => m.type === "lease").map((m) => m.jobId);
    const batch = await submit("batch", "aa".repeat(32));
    for (let i = 0; i < 100 && leases().length === 0; i++) await turns(1);
    expect(leases()).toEqual([batch.id]);
    const chat = await submit("interactive", "bb".repeat(32));
    for (let round = 0; round < 5; round++) {
      clock += 1_500;
      engine.kick();
      await turns(3);
    }
    expect(node.sent.filter((m) => m.type === "cancel").map((m) => m.jobId)).toEqual([batch.id]);
    expect(leases()).toEqual([batch.id, chat.id]);
  });
});
