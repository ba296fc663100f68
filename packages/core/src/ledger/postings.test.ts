import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accounts, EXTERNAL, FEES } from "./accounts.js";
import { checkInvariants } from "./invariants.js";
import {
  applyTransfers,
  depositEvent,
  escrowEvent,
  eventIds,
  type LedgerEvent,
  refundEvent,
  settleEvent,
  withdrawEvent,
} from "./postings.js";

const avail = accounts.available("c");
const escrow = accounts.escrow("c");
const earnings = accounts.earnings("p");

function settle(escrowed: bigint, cost: bigint, feeBps: number): LedgerEvent {
  return settleEvent({ jobId: "j", consumerId: "c", providerId: "p", escrowed, cost, feeBps, at: 1 });
}

function outOf(ev: LedgerEvent, account: string): bigint {
  return ev.transfers.filter((t) => t.from === account).reduce((s, t) => s + t.amount, 0n);
}
function into(ev: LedgerEvent, account: string): bigint {
  return ev.transfers.filter((t) => t.to === account).reduce((s, t) => s + t.amount, 0n);
}

describe("posting rules", () => {
  it("moves a deposit in from outside and a withdrawal back out", () => {
    expect(depositEvent("d1", "c", 50n, 1).transfers).toEqual([{ from: EXTERNAL, to: avail, amount: 50n }]);
    expect(withdrawEvent("w1", "c", 20n, 1).transfers).toEqual([{ from: avail, to: EXTERNAL, amount: 20n }]);
    expect(() => depositEvent("d2", "c", 0n, 1)).toThrow(RangeError);
    expect(() => withdrawEvent("w2", "c", -1n, 1)).toThrow(RangeError);
  });

  it("escrows from available into the consumer's escrow, keyed by the job", () => {
    const ev = escrowEvent("j", "c", 700n, 3);
    expect(ev).toEqual({
      id: eventIds.escrow("j"),
      kind: "escrow",
      jobId: "j",
      at: 3,
      transfers: [{ from: avail, to: escrow, amount: 700n }],
    });
    expect(escrowEvent("j", "c", 0n, 3).transfers).toEqual([]);
    expect(() => escrowEvent("j", "c", -5n, 3)).toThrow(RangeError);
  });

  it("settles by splitting the escrow exactly into provider share, fee and refund", () => {
    const ev = settle(1_000n, 600n, 250);
    expect(ev.id).toBe(eventIds.settle("j"));
    expect(ev.transfers).toEqual([
      { from: escrow, to: earnings, amount: 585n },
      { from: escrow, to: FEES, amount: 15n },
      { from: escrow, to: avail, amount: 400n },
    ]);
  });

  it("rounds the fee down in the provider's favour and caps the cost at the escrow", () => {
    expect(into(settle(100n, 99n, 101), FEES)).toBe(0n); // 99 * 1.01% = 0.9999
    const capped = settle(100n, 1_000n, 1_000);
    expect(into(capped, earnings)).toBe(90n);
    expect(into(capped, FEES)).toBe(10n);
    expect(into(capped, avail)).toBe(0n);
    // zero-amount legs are dropped
    expect(capped.transfers).toHaveLength(2);
    expect(settle(100n, 0n, 500).transfers).toEqual([{ from: escrow, to: avail, amount: 100n }]);
  });

  it("settles any cost and fee rate without creating or losing money", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.integer({ min: 0, max: 10_000 }),
        (escrowed, cost, feeBps) => {
          const ev = settle(escrowed, cost, feeBps);
          const charged = cost < escrowed ? cost : escrowed;
          const fee = (charged * BigInt(feeBps)) / 10_000n;
          expect(outOf(ev, escrow)).toBe(escrowed);
          expect(into(ev, FEES)).toBe(fee);
          expect(into(ev, earnings)).toBe(charged - fee);
          expect(into(ev, avail)).toBe(escrowed - charged);
          for (const t of ev.transfers) expect(t.amount > 0n).toBe(true);
        },
      ),
    );
  });

  it("refunds the whole escrow", () => {
    const ev = refundEvent("j", "c", 700n, 9);
    expect(ev).toEqual({
      id: eventIds.refund("j"),
      kind: "refund",
      jobId: "j",
      at: 9,
      transfers: [{ from: escrow, to: avail, amount: 700n }],
    });
    expect(refundEvent("j", "c", 0n, 9).transfers).toEqual([]);
  });

  it("gives a replayed event the same id and transfers, so applying by id changes nothing", () => {
    const balances = new Map<string, bigint>();
    const applied = new Set<string>();
    const applyOnce = (ev: LedgerEvent) => {
      if (applied.has(ev.id)) return;
      applied.add(ev.id);
      applyTransfers(balances, ev.transfers);
    };
    const events = [depositEvent("d", "c", 1_000n, 1), escrowEvent("j", "c", 400n, 2), settle(400n, 123n, 300)];
    for (const ev of events) applyOnce(ev);
    const once = new Map(balances);
    // a retried settle after a restart is rebuilt from the same inputs
    const replay = settle(400n, 123n, 300);
    expect(replay).toEqual(events[2]);
    for (const ev of [...events, replay]) applyOnce(ev);
    expect(balances).toEqual(once);
    expect(checkInvariants(balances).ok).toBe(true);
    expect(balances.get(avail)).toBe(1_000n - 123n);
  });

  it("applies transfers by debiting the source and crediting the destination", () => {
    const b = new Map<string, bigint>([[avail, 10n]]);
    applyTransfers(b, [
      { from: avail, to: escrow, amount: 4n },
      { from: escrow, to: earnings, amount: 1n },
    ]);
    expect(b).toEqual(
      new Map([
        [avail, 6n],
        [escrow, 3n],
        [earnings, 1n],
      ]),
    );
  });
});
