// A node taking stake out of ProviderRegistry from its own eth key: `unbond` starts the registry's
// unbondDelay (the amount stays slashable meanwhile), `withdraw` pays all of it out after the delay.
import type { Hex } from "viem";
import type { Clients } from "../deploy/deploy.js";
import type { Deployment } from "../deploy/deployment.js";
import { ProviderRegistryAbi } from "../generated/index.js";
import { type NodeStake, stakeOf } from "./stake.js";

export interface UnstakeResult {
  address: `0x${string}`;
  tx: Hex;
  /** the node's registry entry after the transaction */
  stake: NodeStake;
}

async function send(c: Clients, registry: `0x${string}`, call: () => Promise<Hex>): Promise<UnstakeResult> {
  const tx = await call();
  const r = await c.public.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
  if (r.status !== "success") throw new Error(`transaction ${tx} reverted`);
  const me = c.wallet.account.address;
  return { address: me, tx, stake: await stakeOf(c, registry, me) };
}

/** Moves `amount` of the wallet's bonded stake to unbonding (restarting the delay for all of it). */
export function unbondStake(c: Clients, dep: Pick<Deployment, "registry">, amount: bigint): Promise<UnstakeResult> {
  if (amount <= 0n) throw new Error("--amount must be positive");
  const w = { chain: c.wallet.chain ?? null, account: c.wallet.account };
  return send(c, dep.registry, () =>
    c.wallet.writeContract({
      ...w,
      address: dep.registry,
      abi: ProviderRegistryAbi,
      functionName: "unbond",
      args: [amount],
    }),
  );
}

/** Pays the wallet's unbonding stake out once unbondDelay has passed and no dispute freezes it. */
export async function withdrawStake(
  c: Clients,
  dep: Pick<Deployment, "registry">,
): Promise<UnstakeResult & { amount: bigint }> {
  const w = { chain: c.wallet.chain ?? null, account: c.wallet.account };
  const before = await stakeOf(c, dep.registry, c.wallet.account.address);
  const r = await send(c, dep.registry, () =>
    c.wallet.writeContract({ ...w, address: dep.registry, abi: ProviderRegistryAbi, functionName: "withdraw" }),
  );
  return { ...r, amount: before.unbonding - r.stake.unbonding };
}
