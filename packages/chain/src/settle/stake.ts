// A node bonding stake in ProviderRegistry from its own eth key: approve the token, then
// `register` the first time and `topUp` after. Stake is what the gateway schedules on and what
// Slashing takes from when two verifiers' signed verdicts go against a signed result.
import { type Address, getAddress, type Hex, padHex } from "viem";
import type { Clients } from "../deploy/deploy.js";
import type { Deployment } from "../deploy/deployment.js";
import { ProviderRegistryAbi, TestTokenAbi } from "../generated/index.js";

export interface NodeStake {
  registered: boolean;
  bonded: bigint;
  unbonding: bigint;
  /** when `withdraw` may take the unbonding stake (unix seconds; 0 when nothing unbonds) */
  unbondReadyAt: number;
  /** a dispute freezes withdrawal until this time (unix seconds) */
  frozenUntil: number;
}

/** The node's stake as of block `at` (a block number, or the head by default). */
export async function stakeOf(
  c: Pick<Clients, "public">,
  registry: Address,
  node: Address,
  at: bigint | "latest" = "latest",
): Promise<NodeStake> {
  const n = await c.public.readContract({
    address: registry,
    abi: ProviderRegistryAbi,
    functionName: "nodeOf",
    args: [getAddress(node)],
    ...(at === "latest" ? { blockTag: at } : { blockNumber: at }),
  });
  return {
    registered: n.registered,
    bonded: n.bonded,
    unbonding: n.unbonding,
    unbondReadyAt: Number(n.unbondReadyAt),
    frozenUntil: Number(n.frozenUntil),
  };
}

export interface StakeResult {
  address: Address;
  /** "register" the first time, "topUp" after */
  action: "register" | "topUp";
  bonded: bigint;
  txs: Hex[];
}

async function mined(c: Clients, hash: Hex): Promise<Hex> {
  const r = await c.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (r.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return hash;
}

/** Bonds `amount` more stake for the wallet's address (its tokens, its gas). */
export async function bondStake(
  c: Clients,
  dep: Pick<Deployment, "token" | "registry">,
  amount: bigint,
  meta: { region?: string; pricePerUnit?: bigint; endpointKey?: Hex } = {},
): Promise<StakeResult> {
  if (amount <= 0n) throw new Error("--amount must be positive");
  const me = c.wallet.account.address;
  const w = { chain: c.wallet.chain ?? null, account: c.wallet.account };
  const before = await stakeOf(c, dep.registry, me);
  const txs: Hex[] = [];
  txs.push(
    await mined(
      c,
      await c.wallet.writeContract({
        ...w,
        address: dep.token,
        abi: TestTokenAbi,
        functionName: "approve",
        args: [dep.registry, amount],
      }),
    ),
  );
  const action = before.registered ? "topUp" : "register";
  const metadata = {
    region: meta.region ?? "",
    pricePerUnit: meta.pricePerUnit ?? 0n,
    endpointKey: meta.endpointKey ?? padHex("0x0", { size: 32 }),
  };
  txs.push(
    await mined(
      c,
      before.registered
        ? await c.wallet.writeContract({
            ...w,
            address: dep.registry,
            abi: ProviderRegistryAbi,
            functionName: "topUp",
            args: [amount],
          })
        : await c.wallet.writeContract({
            ...w,
            address: dep.registry,
            abi: ProviderRegistryAbi,
            functionName: "register",
            args: [amount, metadata],
          }),
    ),
  );
  return { address: me, action, bonded: (await stakeOf(c, dep.registry, me)).bonded, txs };
}
