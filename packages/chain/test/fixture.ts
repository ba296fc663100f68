// A fresh Hardhat network with Tessera deployed, funded local accounts (keys derived from fixed
// labels so failures reproduce), typed contract handles per account, and snapshot/restore.
import {
  type Address,
  createPublicClient,
  createWalletClient,
  getContract,
  keccak256,
  type LocalAccount,
  publicActions,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { expect } from "vitest";
import { DEFAULT_PARAMS, type DeployParams, deployTessera } from "../src/deploy/deploy.js";
import type { Deployment } from "../src/deploy/deployment.js";
import { type Eip1193, hardhatTransport, setBalance, startHardhat } from "../src/devnet/hardhat.js";
import { EscrowAbi, NodeSharesAbi, ProviderRegistryAbi, SlashingAbi, TestTokenAbi } from "../src/generated/index.js";
import { decodeRevert } from "../src/revert.js";

export const NAMES = [
  "deployer",
  "consumer",
  "consumer2",
  "provider",
  "provider2",
  "verifierA",
  "verifierB",
  "verifierC",
  "holder1",
  "holder2",
  "outsider",
] as const;
export type Name = (typeof NAMES)[number];

export const TEST_PARAMS: DeployParams = {
  ...DEFAULT_PARAMS,
  minStake: 1_000n,
  unbondDelay: 1000,
  withdrawDelay: 100,
  feeBps: 500,
  providerPenalty: 400n,
  verifierPenalty: 300n,
  verifierRewardBps: 5_000,
  disputeWindow: 500,
};

export function accountFor(label: string): LocalAccount {
  return privateKeyToAccount(keccak256(toHex(`tessera-test-${label}`)));
}

export async function setup(params: DeployParams = TEST_PARAMS, mint = 1_000_000n) {
  const provider = await startHardhat();
  const transport = hardhatTransport(provider);
  const pub = createPublicClient({ chain: hardhat, transport, pollingInterval: 20 });
  const acc = Object.fromEntries(NAMES.map((n) => [n, accountFor(n)])) as Record<Name, LocalAccount>;
  for (const a of Object.values(acc)) await setBalance(provider, a.address, 10n ** 21n);
  const wallets = Object.fromEntries(
    NAMES.map((n) => [n, createWalletClient({ chain: hardhat, transport, account: acc[n], pollingInterval: 20 })]),
  ) as Record<Name, ReturnType<typeof createWalletClient<typeof transport, typeof hardhat, LocalAccount>>>;
  const dep: Deployment = await deployTessera(
    { wallet: wallets.deployer, public: pub },
    { ...params, canaryAuthority: acc.deployer.address },
  );

  const as = (n: Name) => {
    // the "public" side carries the account too, so that simulate calls come from it
    const client = { public: wallets[n].extend(publicActions), wallet: wallets[n] };
    return {
      token: getContract({ address: dep.token, abi: TestTokenAbi, client }),
      registry: getContract({ address: dep.registry, abi: ProviderRegistryAbi, client }),
      escrow: getContract({ address: dep.escrow, abi: EscrowAbi, client }),
      slashing: getContract({ address: dep.slashing, abi: SlashingAbi, client }),
      shares: getContract({ address: dep.shares, abi: NodeSharesAbi, client }),
    };
  };
  const c = Object.fromEntries(NAMES.map((n) => [n, as(n)])) as Record<Name, ReturnType<typeof as>>;

  /** waits for a transaction and fails the test if it reverted */
  const wait = async (hash: Promise<`0x${string}`>) => {
    const r = await pub.waitForTransactionReceipt({ hash: await hash, pollingInterval: 20 });
    expect(r.status).toBe("success");
    return r;
  };

  for (const n of NAMES) {
    if (n === "deployer") continue;
    await wait(c.deployer.token.write.mint([acc[n].address, mint]));
    for (const spender of [dep.escrow, dep.registry, dep.shares])
      await wait(c[n].token.write.approve([spender, 2n ** 255n]));
  }

  const balance = (a: Address) => c.deployer.token.read.balanceOf([a]);
  let snap: string | undefined;
  return {
    provider: provider as Eip1193,
    pub,
    acc,
    c,
    dep,
    wait,
    balance,
    chainId: hardhat.id,
    async snapshot() {
      snap = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
    },
    async restore() {
      await provider.request({ method: "evm_revert", params: [snap] });
      snap = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
    },
  };
}

export type Fixture = Awaited<ReturnType<typeof setup>>;

/** Asserts that a contract call reverts with the named custom error. */
export async function expectRevert(p: Promise<unknown>, errorName: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    const name = decodeRevert(e)?.name;
    expect(name, String((e as Error).message).slice(0, 400)).toBe(errorName);
    return;
  }
  throw new Error(`expected a revert with ${errorName}, but the call succeeded`);
}
