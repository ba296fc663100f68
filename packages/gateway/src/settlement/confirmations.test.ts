// --chain-confirmations against a real in-process devnet: a deposit is neither credited nor
// spendable, a redemption not mirrored, and a provider's stake not counted, until its block is n
// deep; then each posts once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bondStake, clientsFor, stakeOf, TestTokenAbi, unbondStake, writeDeployment } from "@tessera/chain";
import { accounts, checkInvariants, FEES } from "@tessera/core";
import pino from "pino";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseGatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import { testJob } from "../verification/test-nodes.js";
import { confirmedHead } from "./confirmed.js";
import { RegistryStakes } from "./registry-stakes.js";
import { startEvmSettlement } from "./start-evm.js";
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

  it("counts a provider's fresh stake only once its block is two deep, and a bond reorged away never", async () => {
    const { dep, clients, pub, mine, mined, store, writer } = await setup(2);
    const url = suite.devnet().url;
    const key = generatePrivateKey();
    const node = privateKeyToAccount(key).address;
    const amount = dep.params.minStake * 2n;
    const w = { chain: clients.wallet.chain ?? null, account: clients.wallet.account };
    await mined(
      clients.wallet.writeContract({
        ...w,
        address: dep.token,
        abi: TestTokenAbi,
        functionName: "mint",
        args: [node, amount],
      }),
    );
    await mined(clients.wallet.sendTransaction({ ...w, to: node, value: 10n ** 18n }));
    const nodeClients = await clientsFor(url, key);
    // the gateway's own cache, as `tessera gateway --settlement evm --chain-confirmations 2` starts it
    const dir = mkdtempSync(join(tmpdir(), "confirmations-stake-"));
    writeDeployment(join(dir, "deployment.json"), dep);
    const config = parseGatewayConfig({
      db: ":memory:",
      feeBps: dep.params.feeBps,
      settlement: { kind: "evm", rpc: url, contracts: join(dir, "deployment.json"), confirmations: 2 },
    });
    const gateway = await startEvmSettlement({ writer } as unknown as Engine, store, config, pino({ level: "silent" }));
    onTestFinished(async () => {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const confirmed = gateway.stakes;
    // the same reads at the head, as every --chain-confirmations gave them before
    const stakes = (confirmations: number) =>
      new RegistryStakes({
        read: (a, at) => stakeOf({ public: pub as never }, dep.registry, a, at),
        head: () => pub.getBlockNumber(),
        confirmations,
        ttlMs: 0,
      });
    const atHead = stakes(0);
    const bonded = async (s: RegistryStakes) => (await s.fresh(node)).bonded;

    // bonded, then reorged away before it was two deep: trusted at once at the head, never at two
    const snapshot = await pub.request({ method: "evm_snapshot" as never });
    await bondStake(nodeClients, dep, amount);
    expect(await bonded(atHead)).toBe(amount);
    expect(await bonded(confirmed)).toBe(0n);
    await mine(1);
    expect(await bonded(confirmed)).toBe(0n);
    await pub.request({ method: "evm_revert" as never, params: [snapshot] as never });
    await mine(3);
    expect(await bonded(atHead)).toBe(0n);
    expect(await bonded(confirmed)).toBe(0n);

    // bonded for good: counted once its block is two deep
    await bondStake(nodeClients, dep, amount);
    expect(await bonded(atHead)).toBe(amount);
    expect(await bonded(confirmed)).toBe(0n);
    await mine(1);
    expect(await bonded(confirmed)).toBe(0n);
    await mine(1);
    expect(await confirmed.fresh(node)).toMatchObject({ registered: true, bonded: amount, unbonding: 0n });

    // an unbond likewise: the confirmed bond stands until the unbond is two deep
    await unbondStake(nodeClients, dep, amount);
    expect(await bonded(atHead)).toBe(0n);
    expect(await bonded(confirmed)).toBe(amount);
    await mine(2);
    expect(await confirmed.fresh(node)).toMatchObject({ bonded: 0n, unbonding: amount });

    // while the chain is shorter than the confirmations nothing is staked
    expect(await pub.getBlockNumber()).toBeLessThan(1000n);
    expect(await stakes(1000).fresh(node)).toMatchObject({ registered: false, bonded: 0n });
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
