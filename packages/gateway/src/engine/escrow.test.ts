// The escrow a job is taken at: what escrowLevels answers for a WASM job and a node's WASM memory budget.
import type { Capabilities, JobSpec } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { escrowLevels } from "./escrow.js";
import type { ProviderSession } from "./sessions.js";

const session = (caps: Partial<Capabilities>): ProviderSession =>
  ({
    id: "small",
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

describe("escrowLevels and the WASM memory budgets online", () => {
  it("queues under a price ceiling a job no budget online holds, on a gateway no wasm node has left since it started", () => {
    // the node online runs wasm but its budget is too small; none has left (wasmThroughputSeen 0):
    // the 503 without a ceiling says to set one to queue the job, so with one it must queue
    const small = session({ wasmMemoryMb: 100 });
    expect(() => escrowLevels(wasm(200), {}, [small], new Map(), 0)).toThrow(
      /largest WASM memory budget online is 100 MiB/,
    );
    const levels = escrowLevels(wasm(200), { maxPricePerUnit: 10 }, [small], new Map(), 0);
    // sized for the speed of the wasm node online, as a job that fits it would be
    expect(levels).toEqual([{ pricePerUnit: 10, escrow: 10_000n }]);
  });
});
