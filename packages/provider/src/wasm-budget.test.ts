import { describe, expect, it } from "vitest";
import { admissible, defaultWasmMemoryBudgetMb, fitsBudget, overBudgetReason } from "./wasm-budget.js";

const GiB = 1024 ** 3;

describe("WASM memory budget decisions", () => {
  it("defaults to half of the machine's memory, in MiB", () => {
    expect(defaultWasmMemoryBudgetMb(16 * GiB)).toBe(8192);
    expect(defaultWasmMemoryBudgetMb(1024 * 1024)).toBe(1);
  });

  it("a limit up to the whole budget fits, one above it never does", () => {
    expect(fitsBudget(4096, 4096)).toBe(true);
    expect(fitsBudget(4097, 4096)).toBe(false);
    expect(overBudgetReason(4097, 4096)).toBe(
      "the wasm job's memory limit of 4097 MiB exceeds this provider's WASM memory budget of 4096 MiB (--wasm-memory-budget)",
    );
  });

  it("never starts jobs whose limits add up to more than the budget", () => {
    expect(admissible(8192, 0, [{ mb: 4096 }, { mb: 4096 }, { mb: 4096 }])).toBe(2);
    expect(admissible(8192, 4096, [{ mb: 4096 }, { mb: 1 }])).toBe(1);
    expect(admissible(8192, 8192, [{ mb: 1 }])).toBe(0);
    expect(admissible(8192, 0, [])).toBe(0);
  });

  it("starts in order: a small job does not overtake a large one waiting ahead of it", () => {
    // 4096 in use: the 8192 job waits for it, and the 64 MiB job behind it waits too
    expect(admissible(8192, 4096, [{ mb: 8192 }, { mb: 64 }])).toBe(0);
    expect(admissible(8192, 0, [{ mb: 8192 }, { mb: 64 }])).toBe(1);
  });
});
