import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accounts, EXTERNAL, FEES } from "../ledger/accounts.js";
import { checkInvariants } from "../ledger/invariants.js";
import { applyTransfers, depositEvent, escrowEvent, settleEvent } from "../ledger/postings.js";
import { chainEventId, chainHeadroom, redemptionEvent, voucherDue } from "./chain.js";

describe("chain settlement decisions", () => {
  it("takes unredeemed settled cost and open escrow off the deposit", () => {
    expect(chainHeadroom({ deposit: 1_000n, settled: 300n, redeemed: 100n, openEscrow: 50n })).toBe(750n);
    // a redemption moves money out of the deposit and out of the unredeemed total alike
    expect(chainHeadroom({ deposit: 800n, settled: 300n, redeemed: 300n, openEscrow: 50n })).toBe(750n);
    expect(chainHeadroom({ deposit: 100n, settled: 300n, redeemed: 0n, openEscrow: 0n })).toBe(-200n);
  });

  it("signs a new voucher only when the settled total grew", () => {
    expect(voucherDue(undefined, 0n)).toBe(false);
    expect(voucherDue(undefined, 1n)).toBe(true);
    expect(voucherDue(10n, 10n)).toBe(false);
    expect(voucherDue(10n, 11n)).toBe(true);
  });

  it("mirrors a redemption by moving the span's net and fees out, keyed by the chain log", () => {
    const ev = redemptionEvent({
      id: chainEventId(31337, "0xABC", 2),
      providerId: "p",
      voucher: { cumulative: 1_000n, net: 951n },
      previous: { cumulative: 400n, net: 381n },
      at: 5,
    });
    expect(ev).toEqual({
      id: "chain:31337:0xabc:2",
      kind: "redeem",
      at: 5,
      transfers: [
        { from: accounts.earnings("p"), to: EXTERNAL, amount: 570n },
        { from: FEES, to: EXTERNAL, amount: 30n },
      ],
    });
    expect(() =>
      redemptionEvent({
        id: "x",
        providerId: "p",
        voucher: { cumulative: 1n, net: 1n },
        previous: { cumulative: 2n, net: 1n },
        at: 1,
      }),
    ).toThrow(RangeError);
  });

  it("leaves the provider's local earnings at zero and the ledger balanced after redeeming every voucher", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (costs, feeBps, cuts) => {
          const b = new Map<string, bigint>();
          const total = costs.reduce((s, c) => s + c, 0n);
          applyTransfers(b, depositEvent("d", "c", total + 1n, 0).transfers);
          const points = [{ cumulative: 0n, net: 0n }];
          costs.forEach((cost, i) => {
            applyTransfers(b, escrowEvent(`j${i}`, "c", cost, i).transfers);
            const ev = settleEvent({
              jobId: `j${i}`,
              consumerId: "c",
              providerId: "p",
              escrowed: cost,
              cost,
              feeBps,
              at: i,
            });
            applyTransfers(b, ev.transfers);
            const last = points[points.length - 1]!;
            const net = ev.transfers.filter((t) => t.to === accounts.earnings("p")).reduce((s, t) => s + t.amount, 0n);
            points.push({ cumulative: last.cumulative + cost, net: last.net + net });
          });
          // the provider redeems some intermediate vouchers, then the latest
          const picks = [...new Set(cuts.map((c) => 1 + (c % (points.length - 1))))].sort((x, y) => x - y);
          picks.push(points.length - 1);
          let prev = points[0]!;
          for (const [k, idx] of [...new Set(picks)].entries()) {
            const v = points[idx]!;
            applyTransfers(
              b,
              redemptionEvent({ id: `r${k}`, providerId: "p", voucher: v, previous: prev, at: 9 }).transfers,
            );
            prev = v;
          }
          expect(b.get(accounts.earnings("p")) ?? 0n).toBe(0n);
          expect(b.get(FEES) ?? 0n).toBe(0n);
          expect(b.get(EXTERNAL)).toBe(-1n);
          expect(checkInvariants(b).ok).toBe(true);
        },
      ),
    );
  });
});
