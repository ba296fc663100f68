// Preemption and a node's WASM memory budget: batch work taken back for a waiting interactive WASM
// job frees its memory as well as its slot, and is taken back where memory, not a slot, is short.
import { describe, expect, it } from "vitest";
import { preemptions } from "./classes.js";
import type { ProviderView } from "./types.js";

const wasmNode = (running: number, freeMb: number, maxConcurrency: number): ProviderView => ({
  id: "p",
  capabilities: {
    runtimes: ["wasm"],
    models: [],
    pricePerUnit: 10,
    region: "eu-west",
    maxConcurrency,
    throughput: 100,
    wasmMemoryMb: 128,
  },
  running,
  reputation: 0.5,
  latencyMs: null,
  draining: false,
  online: true,
  wasmMemoryFreeMb: freeMb,
});

const interactive = (maxMemoryMb: number) => ({
  id: "i",
  consumerId: "c",
  jobClass: "interactive" as const,
  spec: {
    runtime: "wasm" as const,
    module: "cc".repeat(32),
    input: { data: "" },
    limits: { timeoutMs: 1_000, maxMemoryMb },
  },
  constraints: {},
  triedProviders: [],
  createdAt: 0,
});

const batch = (jobId: string, leasedAt: number, memoryMb: number) => ({
  jobId,
  providerId: "p",
  consumerId: "bulk",
  leasedAt,
  memoryMb,
});

describe("preemptions and a node's WASM memory budget", () => {
  it("takes back a batch job for an interactive WASM job on a node full of slots and memory, its memory counted freed", () => {
    // 2 slots, 128 MiB: an interactive job of another consumer (64) and a batch job (64) hold both
    const out = preemptions({
      waiting: [interactive(64)],
      providers: [wasmNode(2, 0, 2)],
      runningBatch: [batch("b", 10, 64)],
      now: 5_000,
      afterMs: 1_000,
    });
    expect(out).toEqual([{ jobId: "b", providerId: "p", forJobId: "i" }]);
  });

  it("takes back batch jobs where memory, not a slot, is short, enough of them to make room", () => {
    // 8 slots, two batch jobs of 64 MiB hold all 128: the waiting job of 100 needs both back
    const out = preemptions({
      waiting: [interactive(100)],
      providers: [wasmNode(2, 0, 8)],
      runningBatch: [batch("old", 10, 64), batch("new", 20, 64)],
      now: 5_000,
      afterMs: 1_000,
    });
    expect(out.map((p) => p.jobId)).toEqual(["new", "old"]);
  });

  it("takes nothing back where the batch jobs it could take would not free enough memory", () => {
    // 64 MiB held by interactive work, 64 by a batch job: a 128 MiB job needs more than the batch job frees
    const out = preemptions({
      waiting: [interactive(128)],
      providers: [wasmNode(2, 0, 2)],
      runningBatch: [batch("b", 10, 64)],
      now: 5_000,
      afterMs: 1_000,
    });
    expect(out).toEqual([]);
  });
});
