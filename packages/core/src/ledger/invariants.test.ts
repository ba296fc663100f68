import { MAX_SUPPLY } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { accounts, EXTERNAL, FEES } from "./accounts.js";
import { checkInvariants, exceedsSupply, firstOverdraft } from "./invariants.js";

const avail = accounts.available("c");
const escrow = accounts.escrow("c");

describe("checkInvariants", () => {
  it("holds for an empty ledger", () => {
    expect(checkInvariants(new Map())).toEqual({
      ok: true,
      netDeposited: 0n,
      internalTotal: 0n,
      negativeAccounts: [],
      problems: [],
    });
  });

  it("holds when internal accounts add up to what came in from outside", () => {
    const r = checkInvariants(
      new Map([
        [EXTERNAL, -1_000n],
        [avail, 600n],
        [escrow, 300n],
        [FEES, 100n],
      ]),
    );
    expect(r.ok).toBe(true);
    expect(r.netDeposited).toBe(1_000n);
    expect(r.internalTotal).toBe(1_000n);
  });

  it("reports money created or lost", () => {
    const created = checkInvariants([
      [EXTERNAL, -100n],
      [avail, 101n],
    ]);
    expect(created.ok).toBe(false);
    expect(created.problems).toEqual(["internal accounts hold 101 nc but 100 nc came in from outside"]);
    expect(checkInvariants([[avail, 5n]]).ok).toBe(false);
  });

  it("reports a negative internal account but lets the external one be negative", () => {
    const r = checkInvariants([
      [EXTERNAL, -10n],
      [avail, 15n],
      [escrow, -5n],
    ]);
    expect(r.ok).toBe(false);
    expect(r.negativeAccounts).toEqual([escrow]);
    expect(r.problems).toEqual([`account ${escrow} is negative`]);
  });
});

describe("firstOverdraft", () => {
  const balances = new Map<string, bigint>([[avail, 100n]]);
  const balanceOf = (a: string) => balances.get(a) ?? 0n;

  it("finds the internal account a set of transfers would overdraw", () => {
    expect(firstOverdraft(balanceOf, [{ from: avail, to: escrow, amount: 101n }])).toBe(avail);
    expect(firstOverdraft(balanceOf, [{ from: escrow, to: avail, amount: 1n }])).toBe(escrow);
  });

  it("allows spending exactly the balance and nets transfers within the set", () => {
    expect(firstOverdraft(balanceOf, [{ from: avail, to: escrow, amount: 100n }])).toBeUndefined();
    expect(
      firstOverdraft(balanceOf, [
        { from: avail, to: escrow, amount: 150n },
        { from: EXTERNAL, to: avail, amount: 50n },
      ]),
    ).toBeUndefined();
  });

  it("never reports the external account", () => {
    expect(firstOverdraft(balanceOf, [{ from: EXTERNAL, to: avail, amount: 10n ** 30n }])).toBeUndefined();
  });
});

describe("exceedsSupply", () => {
  const balances = new Map<string, bigint>([
    [EXTERNAL, -(MAX_SUPPLY - 10n)],
    [avail, MAX_SUPPLY - 10n],
  ]);
  const balanceOf = (a: string) => balances.get(a) ?? 0n;

  it("allows deposits up to the supply cap and refuses one nano-credit more", () => {
    expect(exceedsSupply(balanceOf, [{ from: EXTERNAL, to: avail, amount: 10n }])).toBe(false);
    expect(exceedsSupply(balanceOf, [{ from: EXTERNAL, to: avail, amount: 11n }])).toBe(true);
  });

  it("counts what returns to the outside within the same set, and ignores internal moves", () => {
    expect(
      exceedsSupply(balanceOf, [
        { from: EXTERNAL, to: avail, amount: 20n },
        { from: avail, to: EXTERNAL, amount: 15n },
      ]),
    ).toBe(false);
    expect(exceedsSupply(balanceOf, [{ from: avail, to: escrow, amount: MAX_SUPPLY }])).toBe(false);
  });
});
