import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXTERNAL } from "./accounts.js";
import { checkInvariants } from "./invariants.js";
import { applyTransfers, type LedgerEvent } from "./postings.js";
import {
  claimable,
  claimShares,
  distribute,
  issueShares,
  type SharesBook,
  SharesError,
  sharesAccounts,
  sharesBookFromJson,
  sharesBookToJson,
  transferShares,
} from "./shares.js";

const earnings = sharesAccounts.earnings("p");
const pool = sharesAccounts.pool("p");

describe("node shares postings", () => {
  it("splits a distribution pro rata and claims move pool money to each holder", () => {
    let book = transferShares(issueShares("p", 100n), "p", "alice", 25n);
    const d = distribute(book, "d1", 1_000n, 1);
    expect(d.event.transfers).toEqual([{ from: earnings, to: pool, amount: 1_000n }]);
    book = d.book;
    expect(claimable(book, "p")).toBe(750n);
    expect(claimable(book, "alice")).toBe(250n);
    const c = claimShares(book, "alice", "c1", 2);
    expect(c.amount).toBe(250n);
    expect(c.event).toEqual({
      id: "c1",
      kind: "share_claim",
      at: 2,
      transfers: [{ from: pool, to: sharesAccounts.holder("alice"), amount: 250n }],
    });
    expect(claimable(c.book, "alice")).toBe(0n);
    expect(claimShares(c.book, "alice", "c2", 3).event.transfers).toEqual([]);
  });

  it("keeps revenue earned before a transfer with the seller", () => {
    let book = distribute(issueShares("p", 10n), "d1", 100n, 1).book;
    book = transferShares(book, "p", "bob", 10n);
    book = distribute(book, "d2", 50n, 2).book;
    expect(claimable(book, "p")).toBe(100n);
    expect(claimable(book, "bob")).toBe(50n);
  });

  it("carries what does not divide evenly into the next distribution", () => {
    let book = transferShares(issueShares("p", 3n), "p", "a", 1n);
    book = distribute(book, "d1", 1n, 1).book;
    expect(claimable(book, "p") + claimable(book, "a")).toBe(0n);
    book = distribute(book, "d2", 2n, 2).book;
    expect(claimable(book, "p")).toBe(2n);
    expect(claimable(book, "a")).toBe(1n);
  });

  it("refuses bad supplies, transfers beyond holdings and negative distributions", () => {
    expect(() => issueShares("p", 0n)).toThrow(SharesError);
    expect(() => transferShares(issueShares("p", 5n), "p", "a", 6n)).toThrow(SharesError);
    expect(() => transferShares(issueShares("p", 5n), "a", "p", 1n)).toThrow(SharesError);
    expect(() => transferShares(issueShares("p", 5n), "p", "a", 0n)).toThrow(SharesError);
    expect(() => distribute(issueShares("p", 5n), "d", -1n, 1)).toThrow(SharesError);
  });

  it("round-trips a book through JSON", () => {
    const book = distribute(transferShares(issueShares("p", 7n), "p", "a", 3n), "d", 10n ** 20n, 1).book;
    expect(sharesBookFromJson(JSON.parse(JSON.stringify(sharesBookToJson(book))))).toEqual(book);
  });

  it("conserves money and never lets holders claim more than was distributed", () => {
    const holders = ["p", "a", "b", "c"];
    const op = fc.oneof(
      fc.record({ kind: fc.constant("distribute" as const), amount: fc.bigInt({ min: 0n, max: 10n ** 15n }) }),
      fc.record({
        kind: fc.constant("transfer" as const),
        from: fc.constantFrom(...holders),
        to: fc.constantFrom(...holders),
        shares: fc.bigInt({ min: 1n, max: 1_000n }),
      }),
      fc.record({ kind: fc.constant("claim" as const), holder: fc.constantFrom(...holders) }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 6n }), fc.array(op, { maxLength: 40 }), (supply, ops) => {
        const balances = new Map<string, bigint>([
          [EXTERNAL, -(10n ** 18n)],
          [earnings, 10n ** 18n],
        ]);
        const post = (ev: LedgerEvent) => applyTransfers(balances, ev.transfers);
        let book: SharesBook = issueShares("p", supply);
        let distributed = 0n;
        let claimed = 0n;
        ops.forEach((o, i) => {
          if (o.kind === "distribute") {
            const d = distribute(book, `d${i}`, o.amount, i);
            book = d.book;
            post(d.event);
            distributed += o.amount;
          } else if (o.kind === "transfer") {
            if ((book.holders[o.from]?.shares ?? 0n) >= o.shares) book = transferShares(book, o.from, o.to, o.shares);
          } else {
            const c = claimShares(book, o.holder, `c${i}`, i);
            book = c.book;
            post(c.event);
            claimed += c.amount;
          }
          const pending = holders.reduce((s, h) => s + claimable(book, h), 0n);
          expect(pending + claimed <= distributed).toBe(true);
          expect(balances.get(pool) ?? 0n).toBe(distributed - claimed);
          // dust: at most one nano-credit per holder per distribution stays in the pool
          expect(distributed - claimed - pending <= BigInt((i + 1) * holders.length)).toBe(true);
        });
        const supplyHeld = Object.values(book.holders).reduce((s, h) => s + h.shares, 0n);
        expect(supplyHeld).toBe(supply);
        expect(checkInvariants(balances).ok).toBe(true);
      }),
    );
  });
});
