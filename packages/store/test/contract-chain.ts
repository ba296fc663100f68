// Contract, part 4: slashing evidence under on-chain settlement — result and verdict signatures
// kept once, slashes created, retried and finished, with uint256 amounts as exact decimals.
import { settleEvent } from "@tessera/core";
import { expect, it } from "vitest";
import type { ChainSlashRow } from "../src/index.js";
import type { Harness } from "./contract.js";
import { makeJob, submitOp } from "./fixtures.js";

const BIG = 2n ** 200n + 7n;

export function slash(auditId: string, overrides: Partial<ChainSlashRow> = {}): ChainSlashRow {
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

export function chainBindingContract(h: Harness): void {
  const bind = (consumerId: string, address: string) =>
    h.store.bindings.bind({ consumerId, address, boundAt: 9, signature: `0xsig-${consumerId}` });

  it("binds a consumer's own address over its custodial one, once per address", async () => {
    await h.store.settlement.putChainAccount("c1", "0xCUSTODIAL");
    expect(await h.store.bindings.binding("c1")).toBeUndefined();
    expect(await bind("c1", "0xAAAA")).toBe("bound");
    expect(await h.store.bindings.binding("c1")).toEqual({
      consumerId: "c1",
      address: "0xaaaa",
      boundAt: 9,
      signature: "0xsig-c1",
    });
    // chain logs to the bound address map back to the consumer; the custodial one no longer does
    expect(await h.store.settlement.consumerOfAddress("0xAaAa")).toBe("c1");
    expect(await h.store.settlement.consumerOfAddress("0xcustodial")).toBeUndefined();
    // a later custodial lookup leaves the binding alone
    await h.store.settlement.putChainAccount("c1", "0xCUSTODIAL");
    expect(await h.store.settlement.chainAccount("c1")).toBe("0xaaaa");
    expect(await bind("c1", "0xaaaa")).toBe("same");
    expect(await bind("c2", "0xAAAA")).toBe("taken");
    expect(await h.store.bindings.binding("c2")).toBeUndefined();
    expect(await bind("c2", "0xbbbb")).toBe("bound");
    expect((await h.store.bindings.bindings()).map((b) => b.consumerId).sort()).toEqual(["c1", "c2"]);
  });

  it("sums a consumer's completed work per provider, gross and the provider's net", async () => {
    const done = (id: string, providerId: string, cost: bigint, consumerId = "alice") => {
      const job = makeJob(id, { consumerId, status: "completed", providerId, escrow: cost, cost });
      return [
        submitOp(job),
        {
          job,
          ledger: settleEvent({ jobId: id, consumerId, providerId, escrowed: cost, cost, feeBps: 500, at: 2 }),
        },
      ];
    };
    await h.fund(10_000n);
    await h.fund(10_000n, "bob");
    for (const op of [
      ...done("j1", "p1", 1_000n),
      ...done("j2", "p1", 2_000n),
      ...done("j3", "p2", 400n),
      ...done("j4", "p1", 50n, "bob"),
    ]) {
      const [r] = await h.store.commit([op]);
      expect(r?.ok).toBe(true);
    }
    const queued = makeJob("j5", { providerId: "p2", escrow: 300n });
    await h.store.commit([submitOp(queued)]);
    expect(await h.store.bindings.pairTotals("alice")).toEqual([
      { providerId: "p1", gross: 3_000n, net: 2_850n },
      { providerId: "p2", gross: 400n, net: 380n },
    ]);
    expect(await h.store.bindings.pairTotals("carol")).toEqual([]);
  });
}
