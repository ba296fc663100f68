// `tessera chain up` end to end below the CLI: a Hardhat devnet served over loopback JSON-RPC,
// contracts deployed over HTTP, deployment.json written and read back, a voucher redeemed.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getContract, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, expect, it } from "vitest";
import { clientsFor, DEVNET_DEPLOYER_KEY } from "../src/deploy/connect.js";
import { readDeployment } from "../src/deploy/deployment.js";
import { type Devnet, startDevnet } from "../src/devnet/up.js";
import { signVoucher } from "../src/eip712/sign.js";
import { EscrowAbi, TestTokenAbi } from "../src/generated/index.js";

let net: Devnet | undefined;
afterAll(async () => net?.close());

it("serves a devnet over JSON-RPC, deploys, and settles a voucher through deployment.json", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "tessera-chain-")), "deployment.json");
  net = await startDevnet({ port: 0, out });
  const dep = readDeployment(out);
  expect(dep).toEqual(net.deployment);
  expect(dep.chainId).toBe(31337);

  const admin = await clientsFor(net.url, DEVNET_DEPLOYER_KEY);
  const consumerKey = keccak256(toHex("devnet-consumer"));
  const providerKey = keccak256(toHex("devnet-provider"));
  const consumer = await clientsFor(net.url, consumerKey);
  const provider = await clientsFor(net.url, providerKey);
  const wait = async (h: Promise<`0x${string}`>) =>
    expect((await admin.public.waitForTransactionReceipt({ hash: await h })).status).toBe("success");
  for (const a of [consumer, provider])
    await wait(admin.wallet.sendTransaction({ to: a.wallet.account.address, value: 10n ** 18n }));
  const token = (c: typeof admin) =>
    getContract({ address: dep.token, abi: TestTokenAbi, client: { public: c.public, wallet: c.wallet } });
  const escrow = (c: typeof admin) =>
    getContract({ address: dep.escrow, abi: EscrowAbi, client: { public: c.public, wallet: c.wallet } });
  await wait(token(admin).write.mint([consumer.wallet.account.address, 10_000n]));
  await wait(token(consumer).write.approve([dep.escrow, 10_000n]));
  await wait(escrow(consumer).write.deposit([10_000n]));

  const v = {
    consumer: consumer.wallet.account.address,
    provider: provider.wallet.account.address,
    cumulative: 4_000n,
  };
  const sig = await signVoucher(privateKeyToAccount(consumerKey), dep.chainId, dep.escrow, v);
  await wait(escrow(provider).write.redeem([v, sig]));
  expect(await token(admin).read.balanceOf([provider.wallet.account.address])).toBe(4_000n - 200n);
  expect(await escrow(admin).read.balanceOf([consumer.wallet.account.address])).toBe(6_000n);
});
