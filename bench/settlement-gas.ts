// Gas per settled job on Tessera's contracts (Hardhat 2's EVM, cancun): a per-job ERC-20
// transfer (what most networks do) against one cumulative voucher redeemed after 10, 100 and
// 1,000 jobs, plus stake, slash and share operations. Run: npx tsx bench/settlement-gas.ts
import { mkdirSync, writeFileSync } from "node:fs";
import {
  DEFAULT_PARAMS,
  deployTessera,
  EscrowAbi,
  hardhatTransport,
  NodeSharesAbi,
  ProviderRegistryAbi,
  resultStructHash,
  SlashingAbi,
  setBalance,
  signResult,
  signVerdict,
  signVoucher,
  startHardhat,
  TestTokenAbi,
} from "@tessera/chain";
import { createPublicClient, createWalletClient, getContract, keccak256, publicActions, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";

const provider = await startHardhat();
const transport = hardhatTransport(provider);
const pub = createPublicClient({ chain: hardhat, transport, pollingInterval: 10 });
const names = ["deployer", "consumer", "provider", "verifierA", "verifierB", "holder"] as const;
type Name = (typeof names)[number];
const acc = Object.fromEntries(names.map((n) => [n, privateKeyToAccount(keccak256(toHex(`bench-${n}`)))])) as Record<
  Name,
  ReturnType<typeof privateKeyToAccount>
>;
for (const a of Object.values(acc)) await setBalance(provider, a.address, 10n ** 21n);
const wallet = (n: Name) => createWalletClient({ chain: hardhat, transport, account: acc[n], pollingInterval: 10 });
const dep = await deployTessera(
  { wallet: wallet("deployer"), public: pub },
  { ...DEFAULT_PARAMS, minStake: 1_000n, providerPenalty: 500n },
);
const c = (n: Name) => {
  const client = { public: wallet(n).extend(publicActions), wallet: wallet(n) };
  return {
    token: getContract({ address: dep.token, abi: TestTokenAbi, client }),
    registry: getContract({ address: dep.registry, abi: ProviderRegistryAbi, client }),
    escrow: getContract({ address: dep.escrow, abi: EscrowAbi, client }),
    slashing: getContract({ address: dep.slashing, abi: SlashingAbi, client }),
    shares: getContract({ address: dep.shares, abi: NodeSharesAbi, client }),
  };
};
const gas = async (h: Promise<`0x${string}`>) => {
  const r = await pub.waitForTransactionReceipt({ hash: await h, pollingInterval: 10 });
  if (r.status !== "success") throw new Error("reverted");
  return r.gasUsed;
};
for (const n of names.slice(1)) {
  await gas(c("deployer").token.write.mint([acc[n].address, 10n ** 15n]));
  for (const s of [dep.escrow, dep.registry, dep.shares]) await gas(c(n).token.write.approve([s, 2n ** 255n]));
}

// per-job transfer: the consumer pays the provider on chain for every job (provider already holds tokens)
const perTransfer: bigint[] = [];
for (let i = 0; i < 20; i++)
  perTransfer.push(await gas(c("consumer").token.write.transfer([acc.provider.address, 37n])));
const transferGas = perTransfer.reduce((a, b) => a + b, 0n) / BigInt(perTransfer.length);

await gas(c("consumer").escrow.write.deposit([10n ** 12n]));
let cumulative = 0n;
const redeemAfter = async (jobs: number) => {
  cumulative += 37n * BigInt(jobs); // one voucher per job is signed off chain; only the last is redeemed
  const v = { consumer: acc.consumer.address, provider: acc.provider.address, cumulative };
  return gas(c("provider").escrow.write.redeem([v, await signVoucher(acc.consumer, hardhat.id, dep.escrow, v)]));
};
const firstRedeem = await redeemAfter(1);
const voucher: Record<string, { redeemGas: string; gasPerJob: string }> = {};
for (const jobs of [10, 100, 1_000]) {
  const g = await redeemAfter(jobs);
  voucher[jobs] = { redeemGas: g.toString(), gasPerJob: (Number(g) / jobs).toFixed(1) };
}

const meta = { region: "eu-west", pricePerUnit: 40n, endpointKey: `0x${"00".repeat(32)}` as const };
const stake = await gas(c("provider").registry.write.register([5_000n, meta]));
const topUp = await gas(c("provider").registry.write.topUp([1_000n]));
await gas(c("verifierA").registry.write.register([1_000n, meta]));
await gas(c("verifierB").registry.write.register([1_000n, meta]));
const r = {
  jobId: keccak256(toHex("job")),
  attempt: 1,
  outputHash: keccak256(toHex("out")),
  units: 10n,
  consumer: acc.consumer.address,
  cost: 37n,
};
const v = { result: resultStructHash(r), valid: false, issuedAt: (await pub.getBlock()).timestamp };
const slash = await gas(
  c("holder").slashing.write.slashProvider([
    r,
    await signResult(acc.provider, hardhat.id, dep.slashing, r),
    [v, v],
    [
      await signVerdict(acc.verifierA, hardhat.id, dep.slashing, v),
      await signVerdict(acc.verifierB, hardhat.id, dep.slashing, v),
    ],
  ]),
);
const issue = await gas(c("provider").shares.write.issue([1_000_000n]));
const id = await c("holder").shares.read.idOf([acc.provider.address]);
const shareTransfer = await gas(
  c("provider").shares.write.safeTransferFrom([acc.provider.address, acc.holder.address, id, 250_000n, "0x"]),
);
const redeemIntoShares = await redeemAfter(1_000);
const claim = await gas(c("holder").shares.write.claim([acc.provider.address]));

const result = {
  bench: "settlement-gas",
  evm: "Hardhat 2 (EDR), hardfork cancun; solc 0.8.26, optimizer 10000 runs",
  perJobTransfer: { gasPerJob: transferGas.toString() },
  voucher: { firstRedeemForPair: firstRedeem.toString(), byJobsPerRedemption: voucher },
  operations: {
    stake: stake.toString(),
    topUp: topUp.toString(),
    slashProvider: slash.toString(),
    issueShares: issue.toString(),
    shareTransfer: shareTransfer.toString(),
    redeemIntoShares: redeemIntoShares.toString(),
    shareClaim: claim.toString(),
  },
};
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/settlement-gas.json", `${JSON.stringify(result, null, 2)}\n`);
const md = [
  "# Settlement gas (bench/settlement-gas.ts)",
  "",
  `EVM: ${result.evm}. Command: \`npx tsx bench/settlement-gas.ts\`.`,
  "",
  "| settlement | gas per job |",
  "|---|---|",
  `| ERC-20 transfer per job | ${transferGas} |`,
  ...Object.entries(voucher).map(
    ([n, x]) => `| one voucher redeemed after ${n} jobs (${x.redeemGas} gas) | ${x.gasPerJob} |`,
  ),
  "",
  `First redemption for a consumer–provider pair: ${firstRedeem} gas (writes a fresh storage slot).`,
  "",
  "| operation | gas |",
  "|---|---|",
  ...Object.entries(result.operations).map(([k, g]) => `| ${k} | ${g} |`),
  "",
].join("\n");
writeFileSync("bench/results/settlement-gas.md", md);
process.stdout.write(md);
