import { describe, expect, it } from "vitest";
import { WasmMemoryBudget } from "./wasm-memory.js";

const never = new AbortController().signal;

/** Whether the promise has settled, after pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("WasmMemoryBudget", () => {
  it("grants in order while the limits fit, and a returned reservation lets the next in", async () => {
    const budget = new WasmMemoryBudget(100);
    const giveA = await budget.reserve(64, never);
    const b = budget.reserve(64, never);
    const c = budget.reserve(16, never);
    expect(await settled(b)).toBe(false);
    expect(await settled(c)).toBe(false);
    expect(budget.stats()).toEqual({ budgetMb: 100, inUseMb: 64, peakMb: 64, waiting: 2 });
    giveA();
    giveA(); // once only
    await b;
    await c;
    expect(budget.stats()).toEqual({ budgetMb: 100, inUseMb: 80, peakMb: 80, waiting: 0 });
  });

  it("a waiter aborted at the head of the queue leaves it, and those behind it that fit go on", async () => {
    const budget = new WasmMemoryBudget(100);
    await budget.reserve(64, never);
    const cancel = new AbortController();
    const b = budget.reserve(64, cancel.signal);
    const c = budget.reserve(32, never);
    expect(await settled(c)).toBe(false);
    cancel.abort(new Error("cancelled"));
    await expect(b).rejects.toThrow("cancelled");
    await c;
    expect(budget.stats()).toMatchObject({ inUseMb: 96, waiting: 0 });
  });

  it("refuses more than the whole budget at once, naming it, and an already aborted reservation", async () => {
    const budget = new WasmMemoryBudget(100);
    expect(budget.refusal(100)).toBeUndefined();
    await expect(budget.reserve(101, never)).rejects.toThrow(
      "memory limit of 101 MiB exceeds this provider's WASM memory budget of 100 MiB (--wasm-memory-budget)",
    );
    await expect(budget.reserve(1, AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
    expect(budget.stats()).toMatchObject({ inUseMb: 0, waiting: 0 });
    expect(() => new WasmMemoryBudget(0)).toThrow(RangeError);
  });
});
