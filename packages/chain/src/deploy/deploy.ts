// Deploys token (optional), NodeShares, Escrow, ProviderRegistry and Slashing, and wires the
// registry's slasher once. Returns the deployment record that `tessera chain deploy` writes.
import {
  type Account,
  type Address,
  type Chain,
  getAddress,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import {
  EscrowAbi,
  EscrowBytecode,
  NodeSharesAbi,
  NodeSharesBytecode,
  ProviderRegistryAbi,
  ProviderRegistryBytecode,
  SlashingAbi,
  SlashingBytecode,
  SOURCE_HASH,
  TestTokenAbi,
  TestTokenBytecode,
} from "../generated/index.js";
import type { Deployment } from "./deployment.js";

export interface DeployParams {
  /** an existing ERC-20; if absent a mintable TestToken is deployed */
  token?: Address;
  minStake: bigint;
  unbondDelay: number;
  withdrawDelay: number;
  feeBps: number;
  feeRecipient?: Address;
  canaryAuthority?: Address;
  providerPenalty: bigint;
  verifierPenalty: bigint;
  verifierRewardBps: number;
  disputeWindow: number;
}

export const DEFAULT_PARAMS: DeployParams = {
  minStake: 10n ** 9n * 100n, // 100 tokens at 9 decimals-equivalent nano-credits
  unbondDelay: 7 * 24 * 3600,
  withdrawDelay: 24 * 3600,
  feeBps: 500,
  providerPenalty: 10n ** 9n * 50n,
  verifierPenalty: 10n ** 9n * 50n,
  verifierRewardBps: 2_000,
  disputeWindow: 3 * 24 * 3600,
};

export interface Clients {
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  public: PublicClient;
}

async function mined(c: Clients, hash: `0x${string}`): Promise<Address> {
  const r = await c.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (r.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return getAddress(r.contractAddress as Address);
}

export async function deployTessera(c: Clients, p: DeployParams = DEFAULT_PARAMS): Promise<Deployment> {
  const me = c.wallet.account.address;
  const chain = c.wallet.chain ?? null;
  const deploy = async <A extends readonly unknown[]>(abi: A, bytecode: `0x${string}`, args: unknown[]) =>
    mined(
      c,
      await c.wallet.deployContract({
        abi: abi as never,
        bytecode,
        args: args as never,
        chain,
        account: c.wallet.account,
      }),
    );

  const token = p.token ?? (await deploy(TestTokenAbi, TestTokenBytecode, ["Tessera Test Credit", "tTSC"]));
  const shares = await deploy(NodeSharesAbi, NodeSharesBytecode, [token]);
  const feeRecipient = p.feeRecipient ?? me;
  const escrow = await deploy(EscrowAbi, EscrowBytecode, [
    token,
    shares,
    BigInt(p.withdrawDelay),
    p.feeBps,
    feeRecipient,
  ]);
  const registry = await deploy(ProviderRegistryAbi, ProviderRegistryBytecode, [
    token,
    p.minStake,
    BigInt(p.unbondDelay),
  ]);
  const canaryAuthority = p.canaryAuthority ?? me;
  const slashing = await deploy(SlashingAbi, SlashingBytecode, [
    registry,
    escrow,
    canaryAuthority,
    {
      providerPenalty: p.providerPenalty,
      verifierPenalty: p.verifierPenalty,
      verifierRewardBps: p.verifierRewardBps,
      disputeWindow: BigInt(p.disputeWindow),
    },
  ]);
  const wire = await c.wallet.writeContract({
    address: registry,
    abi: ProviderRegistryAbi,
    functionName: "setSlasher",
    args: [slashing],
    chain,
    account: c.wallet.account,
  });
  await c.public.waitForTransactionReceipt({ hash: wire, pollingInterval: 50 });

  return {
    chainId: await c.public.getChainId(),
    deployer: me,
    token,
    registry,
    escrow,
    slashing,
    shares,
    params: {
      minStake: p.minStake,
      unbondDelay: p.unbondDelay,
      withdrawDelay: p.withdrawDelay,
      feeBps: p.feeBps,
      feeRecipient,
      canaryAuthority,
      providerPenalty: p.providerPenalty,
      verifierPenalty: p.verifierPenalty,
      verifierRewardBps: p.verifierRewardBps,
      disputeWindow: p.disputeWindow,
    },
    sourceHash: SOURCE_HASH,
  };
}
