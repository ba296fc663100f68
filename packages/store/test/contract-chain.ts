// Contract, part 4: slashing evidence under on-chain settlement — result and verdict signatures
// kept once, slashes created, retried and finished, with uint256 amounts as exact decimals.
import { expect, it } from "vitest";
import type { ChainSlashRow } from "../src/index.js";
import type { Harness } from "./contract.js";

const BIG = 2n ** 200n + 7n;

function slash(auditId: string, overrides: Partial<ChainSlashRow> = {}): ChainSlashRow {
  return {
    auditId,
    jobId: `job-${auditId}`,
    attempt: 1,
    providerId: "p1",
    consumerId: "c1",
    providerAddress: "0xaa",
    status: "pending",
    attempts: 0,
    nextAt: 10,
    error: null,
    tx: null,
    taken: null,
    refund: null,
    reward: null,
    createdAt: 5,
    updatedAt: 5,
    ...overrides,
  };
}

export function chainEvidenceContract(h: Harness): void {
  it("keeps a result's EIP-712 evidence once per job attempt", async () => {
    const row = {
      jobId: "j1",
      attempt: 2,
      providerId: "p1",
      providerAddress: "0xaa",
      consumerAddress: "0xcc",
      standardUnits: 1_234_567,
      outputHash: "ab".repeat(32),
      cost: BIG,
      signature: "0xsig",
      at: 7,
    };
    await h.store.chain.putResult(row);
    await h.store.chain.putResult({ ...row, signature: "0xother" });
    expect(await h.store.chain.result("j1", 2)).toEqual(row);
    expect(await h.store.chain.result("j1", 1)).toBeUndefined();
  });

  it("keeps verdict evidence per audit and verifier, in arrival order", async () => {
    const v = (verifierId: string, at: number, valid = false) => ({
      auditId: "a1",
      verifierId,
      jobId: "j1",
      verifierAddress: `0x${verifierId}`,
      valid,
      issuedAt: 1_700_000_000 + at,
      signature: `0xsig-${verifierId}`,
      at,
    });
    await h.store.chain.putVerdict(v("v2", 20));
    await h.store.chain.putVerdict(v("v1", 10, true));
    await h.store.chain.putVerdict({ ...v("v1", 30), signature: "0xlater" });
    expect(await h.store.chain.verdicts("a1")).toEqual([v("v1", 10, true), v("v2", 20)]);
    expect(await h.store.chain.verdicts("a2")).toEqual([]);
  });

  it("records a slash, its retries and its on-chain outcome", async () => {
    await h.store.chain.putSlash(slash("a1", { nextAt: 30 }));
    await h.store.chain.putSlash(slash("a2", { nextAt: 20, createdAt: 6 }));
    await h.store.chain.putSlash(slash("a3", { status: "failed", createdAt: 7, providerId: "p2" }));
    expect((await h.store.chain.pendingSlashes()).map((s) => s.auditId)).toEqual(["a2", "a1"]);
    const done = slash("a1", {
      status: "slashed",
      attempts: 2,
      tx: "0xtx",
      taken: BIG,
      refund: 3n,
      reward: 4n,
      error: "fetch failed",
      updatedAt: 9,
    });
    await h.store.chain.putSlash(done);
    expect(await h.store.chain.slash("a1")).toEqual(done);
    expect((await h.store.chain.pendingSlashes()).map((s) => s.auditId)).toEqual(["a2"]);
    expect((await h.store.chain.recentSlashes(2)).map((s) => s.auditId)).toEqual(["a3", "a2"]);
    expect((await h.store.chain.recentSlashes(5, "p1")).map((s) => s.auditId)).toEqual(["a2", "a1"]);
  });
}

export function chainWithdrawalContract(h: Harness): void {
  it("records a custodial withdrawal through its steps, amounts exact", async () => {
    const w = {
      id: "w1",
      consumerId: "c1",
      fromAddress: "0xaa",
      toAddress: "0xbb",
      amount: BIG,
      status: "requested" as const,
      readyAt: 1_700_000_100,
      requestTx: "0xreq",
      withdrawTx: null,
      paid: null,
      transferTx: null,
      error: null,
      createdAt: 10,
      updatedAt: 10,
    };
    await h.store.withdrawals.putWithdrawal(w);
    await h.store.withdrawals.putWithdrawal({ ...w, id: "w0", consumerId: "c2", createdAt: 5, status: "paid" });
    expect(await h.store.withdrawals.openWithdrawals()).toEqual([w]);
    const withdrawn = { ...w, status: "withdrawn" as const, withdrawTx: "0xw", paid: BIG - 1n, updatedAt: 11 };
    await h.store.withdrawals.putWithdrawal(withdrawn);
    expect(await h.store.withdrawals.openWithdrawals()).toEqual([withdrawn]);
    await h.store.withdrawals.putWithdrawal({ ...withdrawn, status: "paid", transferTx: "0xt", updatedAt: 12 });
    expect(await h.store.withdrawals.openWithdrawals()).toEqual([]);
    expect(await h.store.withdrawals.withdrawalsOf("c1", 5)).toMatchObject([
      { id: "w1", status: "paid", transferTx: "0xt" },
    ]);
  });
}
