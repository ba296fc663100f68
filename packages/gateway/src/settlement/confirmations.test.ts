// --chain-confirmations against a real in-process devnet: a deposit is neither credited nor
// spendable, and a redemption not mirrored, until its block is n deep; then each posts once.
import { accounts, checkInvariants, FEES } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { testJob } from "../verification/test-nodes.js";
import { confirmedHead } from "./confirmed.js";
import { devnetSuite } from "./test-chain.js";
import { settledJob } from "./test-ledger.js";

describe("chain confirmations", () => {
  const suite = devnetSuite("confirmations-");
  const setup = (confirmations: number) => suite.ledger({ confirmations });

  it("credits a deposit, and counts it as headroom, only once it is two blocks deep, and then once", async () => {
    const { store: s, evm, watch, deposit, mine } = await setup(2);
    // the harness mines the deposit and polls the watch at once
    await deposit("c1", 10_000n);
    expect(await s.balance(accounts.available("c1"))).toBe(0n);
    expect(await evm.headroom("c1")).toBe(0n);
    expect((await evm.account("c1")).deposit).toBe("0");
    await expect(evm.admit("c1", 1n)).rejects.toThrow();

    await mine(1);
    await watch.poll();
    expect(await s.balance(accounts.available("c1"))).toBe(0n);
    expect(await evm.headroom("c1")).toBe(0n);

    await mine(1);
    await watch.poll();
    expect(await s.balance(accounts.available("c1"))).toBe(10_000n);
    expect(await evm.headroom("c1")).toBe(10_000n);
    await evm.admit("c1", 10_000n);

    // a second deposit reaches the ledger through the headroom read as well as the watch: still once
    await deposit("c1", 5_000n);
    expect(await evm.headroom("c1")).toBe(10_000n);
    await mine(2);
    expect(await evm.headroom("c1")).toBe(15_000n);
    await watch.poll();
    await mine(3);
    await watch.poll();
    expect(await evm.headroom("c1")).toBe(15_000n);
    expect(await s.balance(accounts.available("c1"))).toBe(15_000n);
    expect(checkInvariants(await s.balances()).problems).toEqual([]);
  }, 60_000);

  it("mirrors a redemption only once it is two blocks deep, and then once", async () => {
    const { dep, store: s, writer, evm, watch, mine, deposit, fundedWallet, redeemVoucher } = await setup(2);
    const addr = await deposit("c2", 10_000n);
    await mine(2);
    await watch.poll();
    for (const ledger of settledJob({
      jobId: "j1",
      consumerId: "c2",
      providerId: "p1",
      cost: 3_000n,
      feeBps: dep.params.feeBps,
      at: 1,
    }))
      expect((await writer.write({ ledger })).ok).toBe(true);
    // the job's record carries the settled cost the headroom counts
    expect(
      (await writer.write({ job: testJob("j1", "p1", { consumerId: "c2", cost: 3_000n, escrow: 3_000n }) })).ok,
    ).toBe(true);
    expect(await evm.headroom("c2")).toBe(7_000n);
    const net = await s.balance(accounts.earnings("p1"));
    expect(net).toBeGreaterThan(0n);
    const provider = await fundedWallet();
    await redeemVoucher("c2", addr, provider, 3_000n, net, 2);

    await watch.poll();
    expect(await s.balance(accounts.earnings("p1"))).toBe(net);
    // balanceOf and the Redeemed logs at one block: the deposit before the redemption, 3000 owed
    expect(await evm.headroom("c2")).toBe(7_000n);
    await mine(1);
    await watch.poll();
    expect(await s.balance(accounts.earnings("p1"))).toBe(net);

    await mine(1);
    await watch.poll();
    expect(await s.balance(accounts.earnings("p1"))).toBe(0n);
    expect(await s.balance(FEES)).toBe(0n);
    await mine(2);
    await watch.poll();
    expect(await s.balance(accounts.earnings("p1"))).toBe(0n);
    expect(checkInvariants(await s.balances()).problems).toEqual([]);
    // 7000 left in the deposit and nothing owed
    expect(await evm.headroom("c2")).toBe(7_000n);
  }, 60_000);

  it("credits nothing, and reads no deposit, while the chain is shorter than the confirmations", async () => {
    const { pub, store: s, evm, watch, deposit } = await setup(1000);
    await deposit("c3", 10_000n);
    expect(await pub.getBlockNumber()).toBeLessThan(1000n);
    await watch.poll();
    expect(await s.balance(accounts.available("c3"))).toBe(0n);
    expect(await evm.headroom("c3")).toBe(0n);
    expect((await evm.account("c3")).deposit).toBe("0");
  }, 60_000);
});

describe("--chain-confirmations", () => {
  const evm = (confirmations?: number) =>
    parseGatewayConfig({
      db: ":memory:",
      settlement: {
        kind: "evm",
        rpc: "http://127.0.0.1:1",
        contracts: "deployment.json",
        ...(confirmations === undefined ? {} : { confirmations }),
      },
    }).settlement.confirmations;

  it("takes a whole number of blocks from 0 to 1000, naming the flag otherwise", () => {
    expect(evm()).toBeUndefined();
    expect(evm(0)).toBe(0);
    expect(evm(1000)).toBe(1000);
    for (const bad of [-1, 1001, 1.5]) expect(() => evm(bad)).toThrow(/--chain-confirmations/);
  });

  it("acts at head − n, and on nothing while the chain is shorter", () => {
    expect(confirmedHead(10n, 0)).toBe(10n);
    expect(confirmedHead(10n, 2)).toBe(8n);
    expect(confirmedHead(2n, 2)).toBe(0n);
    expect(confirmedHead(1n, 2)).toBeUndefined();
  });
});
