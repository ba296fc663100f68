// The behaviour every Store must have, run against each dialect by sqlite.test.ts and
// postgres.test.ts. `fresh()` names an empty database (a file path or a postgres:// URL).
import { depositEvent } from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { byteOrderContract } from "./contract-byte-order.js";
import { chainBindingContract, chainEvidenceContract, chainWithdrawalContract } from "./contract-chain.js";
import { commitContract } from "./contract-commit.js";
import { exclusiveContract } from "./contract-exclusive.js";
import { nulContract } from "./contract-nul.js";
import { queryContract } from "./contract-queries.js";
import { tiesContract } from "./contract-ties.js";
import { verificationContract } from "./contract-verification.js";

export interface StoreTarget {
  dialect: Store["dialect"];
  fresh(): Promise<string>;
}

/** The store under test, opened fresh for each test. */
export interface Harness {
  store: Store;
  location: string;
  /** deposits into a consumer's available account */
  fund(amount: bigint, consumer?: string, id?: string): Promise<void>;
}

/** A Harness on a fresh database of the target for each test of the enclosing describe. */
export function storeHarness(target: StoreTarget): Harness {
  const h: Harness = {
    store: undefined as unknown as Store,
    location: "",
    async fund(amount, consumer = "alice", id = `dep-${consumer}`) {
      const [r] = await h.store.commit([{ ledger: depositEvent(id, consumer, amount, 1) }]);
      expect(r).toEqual({ ok: true, ledgerApplied: true });
    },
  };
  beforeEach(async () => {
    h.location = await target.fresh();
    h.store = await openStore(h.location);
  });
  afterEach(async () => {
    await h.store.close();
  });
  return h;
}

export function storeContract(target: StoreTarget): void {
  const h = storeHarness(target);

  it(`opens a ${target.dialect} store`, () => {
    expect(h.store.dialect).toBe(target.dialect);
  });
  commitContract(h);
  describe("queries", () => queryContract(h));
  describe("verification", () => verificationContract(h));
  describe("chain evidence", () => chainEvidenceContract(h));
  describe("chain withdrawals", () => chainWithdrawalContract(h));
  describe("chain bindings", () => chainBindingContract(h));
  describe("text holding U+0000", () => nulContract(h));
  describe("ties", () => tiesContract(h));
  describe("byte order", () => byteOrderContract(h));
  describe("exclusive open", () => exclusiveContract(h));
}
