// Test harness: the local ledger settling on a real in-process devnet (store in memory, custody
// with a random seed, the chain mirror), with a consumer's deposit made through the Escrow contract
// and funded accounts to act as providers. Used by the devnet tests of this folder.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clientsFor,
  DEVNET_DEPLOYER_KEY,
  type Devnet,
  EscrowAbi,
  signVoucher,
  startDevnet,
  TestTokenAbi,
} from "@tessera/chain";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { ChainWatch } from "./chain-watch.js";
import { Custody } from "./custody.js";
import { EvmSettlement } from "./evm.js";

/**
 * One devnet for a describe block, started before its tests and closed after them; `ledger` gives
 * each test a harness whose store is closed after that test.
 */
export function devnetSuite(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let devnet: Devnet | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    devnet = await startDevnet({ port: 0, out: join(dir, "deployment.json") });
  }, 120_000);
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  afterAll(async () => {
    await devnet?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    devnet: () => devnet as Devnet,
    async ledger(opts: { confirmations?: number } = {}) {
      const h = await chainLedger(devnet as Devnet, opts);
      store = h.store;
      return h;
    },
  };
}

export async function chainLedger(devnet: Devnet, opts: { confirmations?: number } = {}) {
  const dep = devnet.deployment;
  const clients = await clientsFor(devnet.url, DEVNET_DEPLOYER_KEY);
  const pub = createPublicClient({ chain: clients.wallet.chain, transport: http(devnet.url), cacheTime: 0 });
  const mined = async (h: Promise<Hex>) => pub.waitForTransactionReceipt({ hash: await h });
  const store = await openStore(":memory:");
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
    ...opts,
  });
  const watch = new ChainWatch({ store, writer, client: pub as never, deployment: dep, evm, log, ...opts });

  /** Mines `blocks` empty blocks, burying what came before that much deeper. */
  async function mine(blocks: number): Promise<void> {
    await pub.request({ method: "hardhat_mine" as never, params: [`0x${blocks.toString(16)}`] as never });
  }

  /** Deposits `amount` into the consumer's custodial Escrow account and mirrors it; returns the address. */
  async function deposit(consumerId: string, amount: bigint): Promise<Hex> {
    const addr = await evm.addressOf(consumerId);
    const token = { address: dep.token, abi: TestTokenAbi } as const;
    const me = clients.wallet.account.address;
    await mined(clients.wallet.writeContract({ ...token, functionName: "mint", args: [me, amount] }));
    await mined(clients.wallet.writeContract({ ...token, functionName: "approve", args: [dep.escrow, amount] }));
    await mined(
      clients.wallet.writeContract({
        address: dep.escrow,
        abi: EscrowAbi,
        functionName: "depositFor",
        args: [addr, amount],
      }),
    );
    await watch.poll();
    return addr;
  }

  /** A fresh account with gas, as a provider (or anyone) redeeming vouchers. */
  async function fundedWallet() {
    const key = privateKeyToAccount(generatePrivateKey());
    await mined(
      clients.wallet.sendTransaction({
        to: key.address,
        value: 10n ** 18n,
        chain: clients.wallet.chain ?? null,
        account: clients.wallet.account,
      }),
    );
    return createWalletClient({ chain: clients.wallet.chain, transport: http(devnet.url), account: key });
  }

  /**
   * The consumer's custodial key signs a voucher to `provider` for `cumulative`, the ledger records
   * it (owing `net` to provider id "p1"), and the provider redeems it on chain; the receipt.
   */
  async function redeemVoucher(
    consumerId: string,
    consumer: Hex,
    provider: Awaited<ReturnType<typeof fundedWallet>>,
    cumulative: bigint,
    net: bigint,
    at: number,
  ) {
    const v = { consumer, provider: provider.account.address, cumulative };
    const signature = await signVoucher(custody.account(consumerId), dep.chainId, dep.escrow, v);
    await store.settlement.putVoucher({
      consumerId,
      providerId: "p1",
      consumerAddress: consumer,
      providerAddress: provider.account.address,
      cumulative,
      net,
      signature,
      redeemed: false,
      at,
    });
    return mined(
      provider.writeContract({ address: dep.escrow, abi: EscrowAbi, functionName: "redeem", args: [v, signature] }),
    );
  }

  return {
    dep,
    clients,
    pub,
    mined,
    mine,
    store,
    writer,
    custody,
    log,
    evm,
    watch,
    deposit,
    fundedWallet,
    redeemVoucher,
  };
}
