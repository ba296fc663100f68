import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { unsignedTotal, voucherCheck, voucherCredit } from "./voucher-credit.js";

describe("unsignedTotal", () => {
  it("sums what each provider is owed beyond the latest signed voucher", () => {
    expect(
      unsignedTotal([
        { settled: 100n, signed: 40n },
        { settled: 50n, signed: 50n },
        { settled: 7n, signed: 0n },
      ]),
    ).toBe(67n);
  });
  it("never counts a pair negative when a voucher is ahead of the ledger", () => {
    expect(unsignedTotal([{ settled: 10n, signed: 30n }])).toBe(0n);
  });
});

describe("voucherCredit", () => {
  it("admits while unsigned, open and new work fit the limit", () => {
    expect(voucherCredit({ unsigned: 30n, openEscrow: 20n, amount: 50n, limit: 100n })).toEqual({ ok: true });
  });
  it("refuses once unsigned settled work would pass the limit", () => {
    expect(voucherCredit({ unsigned: 90n, openEscrow: 0n, amount: 20n, limit: 100n })).toEqual({
      ok: false,
      exposure: 110n,
      reason: "unsigned",
    });
  });
  it("counts open escrow, so concurrent jobs cannot settle past the limit together", () => {
    expect(voucherCredit({ unsigned: 0n, openEscrow: 90n, amount: 20n, limit: 100n }).ok).toBe(false);
  });
  it("names a job larger than the limit itself", () => {
    expect(voucherCredit({ unsigned: 0n, openEscrow: 0n, amount: 101n, limit: 100n })).toMatchObject({
      ok: false,
      reason: "too_large",
    });
  });
  it("never lets admitted exposure exceed the limit (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 9n }), { maxLength: 40 }),
        (limit, jobs) => {
          // every admitted job settles at its full escrow and nobody signs: owed stays bounded
          let unsigned = 0n;
          for (const amount of jobs) {
            if (voucherCredit({ unsigned, openEscrow: 0n, amount, limit }).ok) unsigned += amount;
          }
          return unsigned <= limit;
        },
      ),
    );
  });
});

describe("voucherCheck", () => {
  const due = { settled: 500n, signed: 200n };
  it("accepts exactly the settled total", () => {
    expect(voucherCheck(due, 500n)).toEqual({ ok: true });
  });
  it("refuses less and more than is due", () => {
    expect(voucherCheck(due, 499n)).toEqual({ ok: false, reason: "wrong_amount" });
    expect(voucherCheck(due, 501n)).toEqual({ ok: false, reason: "wrong_amount" });
  });
  it("refuses a replay once the latest is signed", () => {
    expect(voucherCheck({ settled: 500n, signed: 500n }, 500n)).toEqual({ ok: false, reason: "nothing_due" });
  });
});
