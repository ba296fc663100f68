// Test harness: the local ledger settling on a real in-process devnet (store in memory, custody
// with a random seed, the chain mirror), with a consumer's deposit made through the Escrow contract
// and funded accounts to act as providers. Used by the devnet tests of this folder.
import { randomBytes } from "node:crypto";
import { clientsFor, DEVNET_DEPLOYER_KEY, type Devnet, EscrowAbi, TestTokenAbi } from "@tessera/chain";
import { openStore } from "@tessera/store";
import pino from "pino";
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { GroupWriter } from "../engine/writer.js";
import { ChainWatch } from "./chain-watch.js";
import { Custody } from "./custody.js";
import { EvmSettlement } from "./evm.js";

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

  return { dep, clients, pub, mined, mine, store, writer, custody, log, evm, watch, deposit, fundedWallet };
}
