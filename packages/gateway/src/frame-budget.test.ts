import { MAX_FRAME_BYTES } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { FRAME_BUDGET, FrameBudget } from "./frame-budget.js";

/** a budget on a clock the test moves */
function budget(o: { maxHeld?: number; holding?: number } = {}) {
  const clock = { t: 0 };
  const b = new FrameBudget(o.maxHeld ?? 20, o.holding ?? 0, FRAME_BUDGET, () => clock.t);
  return { b, clock };
}

/** spends `cost` n times; how many went through before the budget ran out */
function spendMany(b: FrameBudget, cost: number, n: number): number {
  for (let i = 0; i < n; i++) if (!b.spend(cost)) return i;
  return n;
}

describe("FrameBudget", () => {
  it("lets a fresh connection send its largest frame twice", () => {
    const { b } = budget();
    const largest = b.cost(MAX_FRAME_BYTES);
    expect(b.spend(largest)).toBe(true);
    expect(b.spend(largest)).toBe(true);
    expect(b.spend(largest)).toBe(false);
  });

  it("refills at the base rate with no lease held, and no further than its size", () => {
    const { b, clock } = budget();
    expect(spendMany(b, 1, 1e6)).toBe(FRAME_BUDGET.baseBurst);
    clock.t += 1_000;
    expect(spendMany(b, 1, 1e6)).toBe(FRAME_BUDGET.baseRate);
    clock.t += 3_600_000;
    expect(spendMany(b, 1, 1e6)).toBe(FRAME_BUDGET.baseBurst);
  });

  it("charges invalid frames and long heartbeats more than a small valid frame", () => {
    const { b } = budget();
    expect(b.invalidCost(20)).toBeGreaterThanOrEqual(10 * b.cost(20));
    expect(b.cost(100, 1024)).toBeGreaterThan(50 * b.cost(100));
  });

  it("pays in advance for the reply to each lease sent, and streams at the per-lease rate", () => {
    const { b, clock } = budget();
    spendMany(b, 1, 1e6);
    b.sent("job_1#1");
    expect(b.spend(b.cost(MAX_FRAME_BYTES))).toBe(true);
    clock.t += 1_000;
    expect(spendMany(b, 1, 1e6)).toBe(FRAME_BUDGET.baseRate + FRAME_BUDGET.perLeaseRate);
    // a second send of the same lease grants nothing more
    b.sent("job_1#1");
    expect(b.spend(1)).toBe(false);
  });

  it("drops leases no heartbeat names, and counts those from before a reconnect until then", () => {
    const { b, clock } = budget({ holding: 2 });
    spendMany(b, 1, 1e6);
    clock.t += 1_000;
    expect(spendMany(b, 1, 1e6)).toBe(FRAME_BUDGET.baseRate + 2 * FRAME_BUDGET.perLeaseRate);
    clock.t += 10_000;
    b.confirm(["job_7#1"], 3_000); // the carried-over count lapses; the lease it names stays
    spendMany(b, 1, 1e6);
    clock.t += 1_000;
    expect(spendMany(b, 1, 1e6)).toBe(FRAME_BUDGET.baseRate + FRAME_BUDGET.perLeaseRate);
  });

  it("never counts more leases than the node can hold", () => {
    const { b, clock } = budget({ maxHeld: 2 });
    for (let i = 0; i < 50; i++) b.sent(`job_${i}#1`);
    spendMany(b, 1, 1e9);
    clock.t += 1_000;
    expect(spendMany(b, 1, 1e9)).toBe(FRAME_BUDGET.baseRate + 2 * FRAME_BUDGET.perLeaseRate);
  });
});
