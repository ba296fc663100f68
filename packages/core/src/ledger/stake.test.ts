import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accounts, EXTERNAL } from "./accounts.js";
import { checkInvariants } from "./invariants.js";
import { applyTransfers, depositEvent, escrowEvent, settleEvent } from "./postings.js";
import {
  auditFeeEvent,
  BURNED,
  releaseEvent,
  slashEvent,
  stakeAccounts,
  stakeDepositEvent,
  unbondEvent,
  unbondingReleasable,
  verifierSlashEvent,
} from "./stake.js";

describe("stake and slashing postings", () => {
  it("refunds the consumer, rewards reporters and burns the rest, taking stake before unbonding", () => {
    const ev = slashEvent({
      jobId: "j",
      providerId: "p",
      consumerId: "c",
      cost: 100n,
      amount: 1_000n,
      staked: 600n,
      unbonding: 900n,
      reporters: ["v1", "v2"],
      rewardBps: 5_000,
      at: 1,
    });
    expect(ev.transfers).toEqual([
      { from: stakeAccounts.unbonding("p"), to: stakeAccounts.stake("p"), amount: 400n },
      { from: stakeAccounts.stake("p"), to: accounts.available("c"), amount: 100n },
      { from: stakeAccounts.stake("p"), to: accounts.earnings("v1"), amount: 225n },
      { from: stakeAccounts.stake("p"), to: accounts.earnings("v2"), amount: 225n },
      { from: stakeAccounts.stake("p"), to: BURNED, amount: 450n },
    ]);
  });

  it("burns a caught verifier's stake before its unbonding, never more than it holds, once per canary audit", () => {
    const slash = (amount: bigint, staked: bigint, unbonding: bigint) =>
      verifierSlashEvent({ auditId: "a", jobId: "j", verifierId: "v", amount, staked, unbonding, at: 1 });
    expect(slash(500n, 300n, 400n).transfers).toEqual([
      { from: stakeAccounts.unbonding("v"), to: stakeAccounts.stake("v"), amount: 200n },
      { from: stakeAccounts.stake("v"), to: BURNED, amount: 500n },
    ]);
    expect(slash(500n, 800n, 400n).transfers).toEqual([{ from: stakeAccounts.stake("v"), to: BURNED, amount: 500n }]);
    expect(slash(500n, 100n, 150n).transfers).toEqual([
      { from: stakeAccounts.unbonding("v"), to: stakeAccounts.stake("v"), amount: 150n },
      { from: stakeAccounts.stake("v"), to: BURNED, amount: 250n },
    ]);
    expect(slash(500n, 0n, 0n).transfers).toEqual([]);
    expect(slash(1n, 1n, 0n).id).toBe("audit:a:verifier-slash");
  });

  it("keeps the ledger invariants through stakes, settles, slashes, fees, unbonding and release", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 13n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 10_000 }),
        (stake, cost, slash, unbond, reporters, rewardBps) => {
          const b = new Map<string, bigint>();
          const apply = (ev: { transfers: { from: string; to: string; amount: bigint }[] }) =>
            applyTransfers(b, ev.transfers);
          apply(depositEvent("d", "c", cost * 2n, 1));
          apply(stakeDepositEvent("s", "p", stake, 1));
          apply(escrowEvent("j", "c", cost * 2n, 1));
          apply(
            settleEvent({
              jobId: "j",
              consumerId: "c",
              providerId: "p",
              escrowed: cost * 2n,
              cost,
              feeBps: 500,
              at: 2,
            }),
          );
          const u = unbond < stake ? unbond : stake;
          if (u > 0n) apply(unbondEvent("u", "p", u, 3));
          const staked = b.get(stakeAccounts.stake("p")) ?? 0n;
          const unbonding = b.get(stakeAccounts.unbonding("p")) ?? 0n;
          const ids = ["v1", "v2", "v3"].slice(0, reporters);
          apply(
            slashEvent({
              jobId: "j",
              providerId: "p",
              consumerId: "c",
              cost,
              amount: slash,
              staked,
              unbonding,
              reporters: ids,
              rewardBps,
              at: 4,
            }),
          );
          const left = (b.get(stakeAccounts.stake("p")) ?? 0n) + (b.get(stakeAccounts.unbonding("p")) ?? 0n);
          expect(staked + unbonding - left).toBe(slash < staked + unbonding ? slash : staked + unbonding);
          const fees = b.get("protocol:fees") ?? 0n;
          if (fees > 0n) apply(auditFeeEvent("f", "j", "v1", fees, 5));
          // a verifier caught by a canary: its stake (here the reward it earned, staked back) burned
          const reward = b.get(stakeAccounts.earnings("v1")) ?? 0n;
          if (reward > 0n) apply(stakeDepositEvent("sv", "v1", reward, 5));
          apply(
            verifierSlashEvent({
              auditId: "a",
              jobId: "j",
              verifierId: "v1",
              amount: slash,
              staked: b.get(stakeAccounts.stake("v1")) ?? 0n,
              unbonding: 0n,
              at: 5,
            }),
          );
          apply(releaseEvent("r", "p", b.get(stakeAccounts.unbonding("p")) ?? 0n, 6));
          const report = checkInvariants(b);
          expect(report.problems).toEqual([]);
          expect(b.get(EXTERNAL)).toBeDefined();
        },
      ),
    );
  });
});

describe("unbonding release", () => {
  it("waits for the delay and for every audit of the provider to be decided", () => {
    expect(unbondingReleasable(100, 99, 0)).toBe(false);
    expect(unbondingReleasable(100, 100, 0)).toBe(true);
    expect(unbondingReleasable(100, 10_000, 1)).toBe(false);
  });
});
