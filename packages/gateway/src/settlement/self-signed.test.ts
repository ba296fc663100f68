// What a self-signing consumer owes and what the gateway takes from it, on a real store (SQLite in
// memory) and real secp256k1 signatures: due vouchers per provider, the credit limit at admission,
// and vouchers checked against the bound address, the amount and each other.
import { type Deployment, escrowDomain, voucherTypes } from "@tessera/chain";
import { depositEvent, escrowEvent, type JobRecord, settleEvent } from "@tessera/core";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testJob } from "../verification/test-nodes.js";
import { SelfSignedVouchers } from "./self-signed.js";

const deployment = {
  chainId: 31337,
  escrow: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
} as unknown as Deployment;
const me = privateKeyToAccount(generatePrivateKey());
const p1 = privateKeyToAccount(generatePrivateKey()).address;
const p3 = privateKeyToAccount(generatePrivateKey()).address;

function completed(id: string, providerId: string, cost: bigint): JobRecord {
  return testJob(id, providerId, {
    pricePerUnit: 1,
    escrow: cost,
    cost,
    units: { inputTokens: 0, outputTokens: 0, standardUnits: Number(cost) },
  });
}

describe("SelfSignedVouchers", () => {
  let store: Store;
  let self: SelfSignedVouchers;

  const provider = (id: string, ethAddress?: string) =>
    store.commit([
      {
        provider: {
          id,
          capabilities: {
            runtimes: ["wasm"],
            models: [],
            pricePerUnit: 1,
            region: "r",
            maxConcurrency: 1,
            throughput: 1,
            ...(ethAddress ? { ethAddress } : {}),
          },
          firstSeenAt: 0,
          lastSeenAt: 0,
          online: true,
          completed: 0,
          failed: 0,
        },
      },
    ]);
  const settle = async (id: string, providerId: string, cost: bigint) => {
    const job = completed(id, providerId, cost);
    await store.commit([{ job: { ...job, status: "running" }, ledger: escrowEvent(id, "c1", cost, 1) }]);
    const [r] = await store.commit([
      {
        job,
        ledger: settleEvent({ jobId: id, consumerId: "c1", providerId, escrowed: cost, cost, feeBps: 500, at: 2 }),
      },
    ]);
    expect(r?.ok).toBe(true);
  };
  const sign = (provider: Address, cumulative: bigint, signer = me) =>
    signer.signTypedData({
      domain: escrowDomain(deployment.chainId, deployment.escrow),
      types: voucherTypes,
      primaryType: "Voucher",
      message: { consumer: me.address, provider, cumulative },
    });

  beforeEach(async () => {
    store = await openStore(":memory:");
    self = new SelfSignedVouchers({ store, deployment, log: pino({ level: "silent" }), creditLimit: 1_000n });
    await store.commit([{ ledger: depositEvent("d1", "c1", 10_000n, 1) }]);
    await provider("p1", p1);
    await provider("p2");
    await provider("p3", p3);
    const message = self.bindMessage("c1");
    await self.bind("c1", me.address, await me.signMessage({ message }), async () => false);
    await settle("j1", "p1", 300n);
    await settle("j2", "p2", 200n);
    await settle("j3", "p3", 100n);
  });
  afterEach(async () => {
    await store.close();
  });

  it("owes a voucher per provider with an eth address, for its settled gross", async () => {
    expect(await self.due("c1")).toEqual([
      { providerId: "p1", provider: p1, cumulative: 300n, signed: 0n, net: 285n },
      { providerId: "p3", provider: p3, cumulative: 100n, signed: 0n, net: 95n },
    ]);
    expect(await self.unsigned("c1")).toBe(400n);
  });

  it("admits within the credit limit and refuses past it, naming why", async () => {
    await expect(self.admit("c1", 500n, 100n)).resolves.toBeUndefined();
    await expect(self.admit("c1", 500n, 101n)).rejects.toMatchObject({ code: "vouchers_unsigned", status: 402 });
    await expect(self.admit("c1", 1_001n, 0n)).rejects.toMatchObject({ code: "voucher_credit_too_small", status: 402 });
    await self.accept("c1", "p1", 300n, await sign(p1, 300n));
    await expect(self.admit("c1", 800n, 100n)).resolves.toBeUndefined();
  });

  it("takes one voucher for exactly what is due, once, however many arrive together", async () => {
    const sig = await sign(p1, 300n);
    const results = await Promise.allSettled([1, 2, 3].map(() => self.accept("c1", "p1", 300n, sig)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected"))
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "nothing_due" });
    expect(await store.settlement.latestVoucher("c1", "p1")).toMatchObject({
      cumulative: 300n,
      net: 285n,
      signature: sig,
    });
    await expect(self.accept("c1", "p3", 99n, await sign(p3, 99n))).rejects.toMatchObject({ code: "wrong_amount" });
    await expect(self.accept("c1", "p2", 200n, await sign(p1, 200n))).rejects.toMatchObject({ code: "nothing_due" });
    expect(await store.settlement.latestVoucher("c1", "p3")).toBeUndefined();
  });

  it("owes nothing new to a provider that changed its address since the last voucher", async () => {
    await self.accept("c1", "p3", 100n, await sign(p3, 100n));
    await provider("p3", privateKeyToAccount(generatePrivateKey()).address);
    await settle("j4", "p3", 50n);
    expect((await self.due("c1")).map((v) => v.providerId)).toEqual(["p1"]);
  });

  it("keeps bindings across a restart and refuses a second address", async () => {
    const again = new SelfSignedVouchers({ store, deployment, log: pino({ level: "silent" }), creditLimit: 1n });
    await again.load();
    expect(again.addressOf("c1")).toBe(me.address);
    const other = privateKeyToAccount(generatePrivateKey());
    const sig = await other.signMessage({ message: again.bindMessage("c1") });
    await expect(again.bind("c1", other.address, sig, async () => false)).rejects.toMatchObject({
      code: "already_bound",
    });
    const fresh = await other.signMessage({ message: again.bindMessage("c2") });
    await expect(again.bind("c2", other.address, fresh, async () => true)).rejects.toMatchObject({
      code: "custodial_history",
    });
    expect(await store.bindings.binding("c2")).toBeUndefined();
  });
});
