// `tessera up --settlement evm`: the devnet's faucet. Mints test tokens with the devnet deployer
// (Hardhat's public account #0), deposits them into the Escrow contract for the demo consumer's
// custodial address, waits until the gateway has credited them, gives providers and the gateway gas
// money, and has every provider and verifier bond test tokens as stake in ProviderRegistry.
import { existsSync, rmSync } from "node:fs";
import {
  bondStake,
  clientsFor,
  DEVNET_DEPLOYER_KEY,
  loadOrCreateEthKey,
  mintAndDepositFor,
  readDeployment,
  stakeOf,
  TestTokenAbi,
} from "@tessera/chain";
import type { Address } from "viem";
import { waitFor } from "./processes.js";

async function settlementAccount(
  gateway: string,
  apiKey: string,
): Promise<{ address: Address; deposit: string; headroom: string }> {
  const r = await fetch(`${gateway}/v1/settlement/account`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!r.ok) throw new Error(`GET /v1/settlement/account: ${r.status} ${await r.text()}`);
  return (await r.json()) as { address: Address; deposit: string; headroom: string };
}

/** Removes a stale deployment.json so that waiting for the file waits for this devnet's. */
export function clearDeployment(file: string): void {
  if (existsSync(file)) rmSync(file);
}

export async function waitForDeployment(file: string, rpc: string): Promise<void> {
  await waitFor(
    "the devnet's deployment.json",
    async () => {
      if (!existsSync(file)) return undefined;
      const dep = readDeployment(file);
      const c = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
      return (await c.public.getChainId()) === dep.chainId ? true : undefined;
    },
    60_000,
  );
}

/** Tops the consumer's Escrow deposit up to `amount` and waits until the gateway sees it. */
export async function fundConsumerOnChain(o: {
  rpc: string;
  contracts: string;
  gateway: string;
  apiKey: string;
  amount: bigint;
}): Promise<void> {
  const dep = readDeployment(o.contracts);
  const acct = await waitFor("the settlement account", () => settlementAccount(o.gateway, o.apiKey), 30_000);
  const missing = o.amount - BigInt(acct.deposit ?? "0");
  if (missing > 0n) {
    await mintAndDepositFor(await clientsFor(o.rpc, DEVNET_DEPLOYER_KEY), dep, acct.address, missing);
  }
  await waitFor(
    "the gateway to credit the on-chain deposit",
    async () => (BigInt((await settlementAccount(o.gateway, o.apiKey)).deposit ?? "0") >= o.amount ? true : undefined),
    30_000,
  );
}

/** Gas money for providers' redeeming addresses (devnet only). */
export async function fundGas(rpc: string, addresses: Address[], wei = 10n ** 18n): Promise<void> {
  const c = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
  for (const to of addresses) {
    const hash = await c.wallet.sendTransaction({
      to,
      value: wei,
      chain: c.wallet.chain ?? null,
      account: c.wallet.account,
    });
    await c.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  }
}

/**
 * Devnet only: mints `amount` test tokens to each node's eth address and has the node bond them in
 * ProviderRegistry from its own key (register, or top up to `amount`); nodes need gas (fundGas).
 */
export async function stakeNodes(rpc: string, contracts: string, ethKeyFiles: string[], amount: bigint): Promise<void> {
  const dep = readDeployment(contracts);
  const faucet = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
  const w = { chain: faucet.wallet.chain ?? null, account: faucet.wallet.account };
  for (const file of ethKeyFiles) {
    const eth = loadOrCreateEthKey(file);
    const have = (await stakeOf(faucet, dep.registry, eth.address)).bonded;
    if (have >= amount) continue;
    const hash = await faucet.wallet.writeContract({
      ...w,
      address: dep.token,
      abi: TestTokenAbi,
      functionName: "mint",
      args: [eth.address, amount - have],
    });
    await faucet.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    await bondStake(await clientsFor(rpc, eth.privateKey), dep, amount - have);
  }
}
