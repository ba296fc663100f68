// The escrow a job is taken at: what escrowLevels answers for a WASM job and a node's WASM memory budget.
import type { Capabilities, JobSpec } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { escrowLevels } from "./escrow.js";
import type { ProviderSession } from "./sessions.js";

const session = (caps: Partial<Capabilities> & { id?: string }): ProviderSession =>
  ({
    id: caps.id ?? "small",
    online: true,
    capabilities: { runtimes: ["wasm"], models: [], pricePerUnit: 10, maxConcurrency: 4, throughput: 1_000, ...caps },
  }) as unknown as ProviderSession;

const wasm = (maxMemoryMb: number) =>
  ({
    runtime: "wasm",
    module: "ab".repeat(32),
    input: { data: "" },
    limits: { timeoutMs: 1_000, maxMemoryMb },
  }) as JobSpec;

describe("escrowLevels for WASM jobs", () => {
  it("queues under a price ceiling a job no budget online holds, sized by its fuel limit", () => {
    // the node online runs wasm but its budget is too small: the 503 without a ceiling says to
    // set one to queue the job, so with one it must queue
    const small = session({ wasmMemoryMb: 100 });
    expect(() => escrowLevels(wasm(200), {}, [small], new Map())).toThrow(
      /largest WASM memory budget online is 100 MiB/,
    );
    const levels = escrowLevels(wasm(200), { maxPricePerUnit: 10 }, [small], new Map());
    // 1 s of time cap and no maxFuel: 3·10¹⁰ fuel, 3,000 SU at 10 nc
    expect(levels).toEqual([{ pricePerUnit: 10, escrow: 30_000n }]);
  });

  it("sizes a job by its fuel limit at each node's price, not by how fast a node claims to be", () => {
    const fast = session({ id: "fast", throughput: 1e10, pricePerUnit: 10 });
    const dear = session({ id: "dear", throughput: 1, pricePerUnit: 30 });
    const spec = { ...wasm(64), limits: { timeoutMs: 1_000, maxMemoryMb: 64, maxFuel: 50_000_000 } } as JobSpec;
    // 5 × 10⁷ fuel: 5 SU
    expect(escrowLevels(spec, {}, [fast, dear], new Map())).toEqual([
      { pricePerUnit: 30, escrow: 150n },
      { pricePerUnit: 10, escrow: 50n },
    ]);
    // no node online, a ceiling: the same size at the ceiling (before, it needed a node's speed)
    expect(escrowLevels(spec, { maxPricePerUnit: 7 }, [], new Map())).toEqual([{ pricePerUnit: 7, escrow: 35n }]);
    expect(() => escrowLevels(spec, {}, [], new Map())).toThrow(/No provider offering the wasm runtime is online/);
  });
});
