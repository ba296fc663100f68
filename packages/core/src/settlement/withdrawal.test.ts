import { describe, expect, it } from "vitest";
import { chainHeadroom } from "./chain.js";
import { nextWithdrawalStep, withdrawalRefusal } from "./withdrawal.js";

describe("custodial withdrawals", () => {
  it("lets only headroom leave, one withdrawal at a time", () => {
    expect(withdrawalRefusal(10n, 10n, false)).toBeUndefined();
    expect(withdrawalRefusal(11n, 10n, false)).toMatch(/only 10/);
    expect(withdrawalRefusal(1n, -5n, false)).toMatch(/only 0/);
    expect(withdrawalRefusal(1n, 10n, true)).toMatch(/already in progress/);
    expect(withdrawalRefusal(0n, 10n, false)).toMatch(/positive/);
  });

  it("counts a pending withdrawal out of the headroom", () => {
    const p = { deposit: 100n, settled: 30n, redeemed: 10n, openEscrow: 5n };
    expect(chainHeadroom(p)).toBe(75n);
    expect(chainHeadroom({ ...p, pendingWithdrawal: 70n })).toBe(5n);
  });

  it("waits out the contract's delay, then withdraws, then pays the named address", () => {
    expect(nextWithdrawalStep({ status: "requested", readyAt: 100 }, 99)).toBe("wait");
    expect(nextWithdrawalStep({ status: "requested", readyAt: 100 }, 100)).toBe("withdraw");
    expect(nextWithdrawalStep({ status: "withdrawn", readyAt: 100 }, 50)).toBe("transfer");
    expect(nextWithdrawalStep({ status: "paid", readyAt: 100 }, 500)).toBe("done");
    expect(nextWithdrawalStep({ status: "failed", readyAt: 100 }, 500)).toBe("done");
  });
});
