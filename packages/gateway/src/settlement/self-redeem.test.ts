// A voucher its consumer's key signed to itself (or an accomplice) can be redeemed at once, with no
// withdrawal delay: that takes money out of the deposit and pays no provider, so the headroom must
// not treat it as settled work paid off.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientsFor, DEVNET_DEPLOYER_KEY, EscrowAbi, signVoucher, startDevnet, TestTokenAbi } from "@tessera/chain";
import { escrowEvent, settleEvent } from "@tessera/core";
import { openStore } from "@tessera/store";
import pino from "pino";
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { testJob } from "../verification/test-nodes.js";
import { ChainWatch } from "./chain-watch.js";
import { Custody } from "./custody.js";
import { EvmSettlement } from "./evm.js";

it("does not count a redemption of a voucher the gateway never recorded as paying what providers are owed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "self-redeem-"));
  const devnet = await startDevnet({ port: 0, out: join(dir, "deployment.json") });
  const store = await openStore(":memory:");
  try {
    const dep = devnet.deployment;
    const clients = await clientsFor(devnet.url, DEVNET_DEPLOYER_KEY);
    const pub = createPublicClient({ chain: clients.wallet.chain, transport: http(devnet.url), cacheTime: 0 });
    const mined = async (h: Promise<Hex>) => pub.waitForTransactionReceipt({ hash: await h });
    const writer = new GroupWriter(store);
    const custody = new Custody(randomBytes(32));
    const log = pino({ level: "silent" });
    const evm = new EvmSettlement({
      store,
      writer,
      client: pub as never,
      deployment: dep,
      custody,
      evidence: {} as never,
      selfSigned: { addressOf: () => undefined } as never,
      log,
    });
    const watch = new ChainWatch({ store, writer, client: pub as never, deployment: dep, evm, log });
    const addr = await evm.addressOf("c1");
    const token = { address: dep.token, abi: TestTokenAbi } as const;
    await mined(
      clients.wallet.writeContract({ ...token, functionName: "mint", args: [clients.wallet.account.address, 10_000n] }),
    );
    await mined(clients.wallet.writeContract({ ...token, functionName: "approve", args: [dep.escrow, 10_000n] }));
    await mined(
      clients.wallet.writeContract({
        address: dep.escrow,
        abi: EscrowAbi,
        functionName: "depositFor",
        args: [addr, 10_000n],
      }),
    );
    await watch.poll();
    // 3000 of settled work owed to provider p1, not redeemed yet
    const w = async (ev: Parameters<GroupWriter["write"]>[0]["ledger"]) =>
      expect((await writer.write({ ledger: ev })).ok).toBe(true);
    await w(escrowEvent("j1", "c1", 3_000n, 1));
    await w(
      settleEvent({
        jobId: "j1",
        consumerId: "c1",
        providerId: "p1",
        escrowed: 3_000n,
        cost: 3_000n,
        feeBps: dep.params.feeBps,
        at: 2,
      }),
    );
    // the job's record carries the settled cost the headroom counts
    const job = testJob("j1", "p1", { consumerId: "c1", cost: 3_000n, escrow: 3_000n });
    expect((await writer.write({ job })).ok).toBe(true);
    expect(await evm.headroom("c1")).toBe(7_000n);
    // whoever holds the consumer's key signs 3000 to an address of its own and redeems it at once
    const accomplice = privateKeyToAccount(generatePrivateKey());
    await mined(
      clients.wallet.sendTransaction({
        to: accomplice.address,
        value: 10n ** 18n,
        chain: clients.wallet.chain ?? null,
        account: clients.wallet.account,
      }),
    );
    const v = { consumer: addr, provider: accomplice.address, cumulative: 3_000n };
    const signature = await signVoucher(custody.account("c1"), dep.chainId, dep.escrow, v);
    const wallet = createWalletClient({
      chain: clients.wallet.chain,
      transport: http(devnet.url),
      account: accomplice,
    });
    await mined(
      wallet.writeContract({ address: dep.escrow, abi: EscrowAbi, functionName: "redeem", args: [v, signature] }),
    );
    // 7000 left in the deposit, of which p1 is still owed 3000
    expect(await evm.headroom("c1")).toBe(4_000n);
    await expect(evm.admit("c1", 4_001n)).rejects.toThrow();
  } finally {
    await store.close();
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
