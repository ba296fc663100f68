// The whole network settling on chain: `tessera chain up` (Hardhat 2 served over JSON-RPC), a
// gateway with --settlement evm, a provider process with --eth-key, real WASM jobs. The consumer's
// money enters only through the Escrow contract; the provider collects with `tessera chain redeem`
// and the gateway's local ledger mirrors every step with its invariants intact.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  clientsFor,
  DEVNET_DEPLOYER_KEY,
  EscrowAbi,
  loadOrCreateEthKey,
  mintAndDepositFor,
  readDeployment,
  TestTokenAbi,
} from "@tessera/chain";
import { accounts, FEES } from "@tessera/core";
import { loadBuiltinModule } from "@tessera/runtimes";
import { TesseraClient } from "@tessera/sdk";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmGatewayFlags, redeem, startChain, type TestChain } from "../helpers/devnet.js";
import { TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const DEPOSIT = 50_000_000_000n;

describe("on-chain settlement (--settlement evm)", () => {
  const net = new TestNetwork();
  let chain: TestChain;
  let rpc: string;
  let depFile: string;
  let ethKeyFile: string;
  let nodeKeyFile: string;
  let client: TesseraClient;
  let apiKey: string;
  let consumerAddress: Address;
  let reverse: string;

  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${net.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const account = () => get<{ address: Address; deposit: string; headroom: string }>("/v1/settlement/account");

  beforeAll(async () => {
    chain = await startChain(net.dir);
    ({ rpc, depFile } = chain);
    await net.startGateway(evmGatewayFlags(chain));
    const dataDir = join(net.dir, "provider-1");
    mkdirSync(dataDir, { recursive: true });
    ethKeyFile = join(dataDir, "eth.key");
    nodeKeyFile = join(dataDir, "node.key");
    await net.startProvider({ models: [], extra: ["--runtimes", "wasm", "--eth-key", ethKeyFile] });
    await net.waitForProviders(1);
    const c = await net.admin.createConsumer("chain-consumer");
    apiKey = c.apiKey;
    client = new TesseraClient({ baseUrl: net.url, apiKey, adminKey: net.adminKey });
    consumerAddress = (await account()).address;
    reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  }, 120_000);
  afterAll(async () => {
    await net.stop();
    await chain?.proc.kill("SIGTERM");
  });

  it("refuses work and off-chain deposits until the consumer has money in the Escrow contract", async () => {
    await expect(client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64("x") } })).rejects.toThrow(
      /402|insufficient|available/i,
    );
    const r = await fetch(`${net.url}/v1/admin/deposits`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ consumerId: "c_x", amount: "5" }),
    });
    expect(r.status).toBe(409);
  });

  it("credits an on-chain deposit, runs jobs, and a provider redeems its voucher for tokens", async () => {
    const dep = readDeployment(depFile);
    const admin = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
    const send = async (p: Promise<`0x${string}`>) =>
      expect((await admin.public.waitForTransactionReceipt({ hash: await p })).status).toBe("success");
    const w = { chain: admin.wallet.chain ?? null, account: admin.wallet.account };
    await mintAndDepositFor(admin, dep, consumerAddress, DEPOSIT);
    await until("deposit credited", async () => BigInt((await account()).headroom) === DEPOSIT);
    expect(BigInt((await client.account()).balance)).toBe(DEPOSIT);

    const jobs = await Promise.all(
      ["alpha", "beta", "gamma"].map((s) =>
        client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(s) } }),
      ),
    );
    const done = await Promise.all(jobs.map((j) => client.waitForJob(j.id)));
    for (const d of done) expect(d.status).toBe("completed");
    const gross = done.reduce((s, d) => s + BigInt(d.cost!), 0n);
    expect(gross > 0n).toBe(true);
    // what the consumer still owes counts against its deposit until redeemed
    expect(BigInt((await account()).headroom)).toBe(DEPOSIT - gross);

    // the provider pays gas from its own address; a devnet faucet gives it some
    const eth = loadOrCreateEthKey(ethKeyFile);
    await send(admin.wallet.sendTransaction({ ...w, to: eth.address, value: 10n ** 18n }));
    const out = await redeem("redeem", chain, net.url, { node: nodeKeyFile, eth: ethKeyFile });
    expect(out.redemptions).toHaveLength(1);
    expect(BigInt(out.redemptions[0]!.cumulative)).toBe(gross);

    const fee = (gross * BigInt(dep.params.feeBps)) / 10_000n;
    const tokens = await admin.public.readContract({
      address: dep.token,
      abi: TestTokenAbi,
      functionName: "balanceOf",
      args: [eth.address],
    });
    expect(tokens).toBe(gross - fee);
    const onChain = await admin.public.readContract({
      address: dep.escrow,
      abi: EscrowAbi,
      functionName: "balanceOf",
      args: [consumerAddress],
    });
    expect(onChain).toBe(DEPOSIT - gross);

    // the gateway's ledger mirrors the redemption: the provider's earnings left for the chain
    const providerId = done[0]!.provider!;
    const ledger = await until("redemption mirrored", async () => {
      const l = await net.admin.ledger();
      return (l.accounts[accounts.earnings(providerId)] ?? "0") === "0" ? l : undefined;
    });
    expect(ledger.ok).toBe(true);
    expect(ledger.accounts[accounts.available((await client.account()).id)]).toBe((DEPOSIT - gross).toString());
    expect(ledger.accounts[FEES] ?? "0").toBe("0");
    expect(BigInt(ledger.netDeposited)).toBe(DEPOSIT - gross);
    expect(BigInt((await account()).headroom)).toBe(DEPOSIT - gross);

    // nothing new to redeem: a second run (trusting the gateway's escrow address) sends no transaction
    const again = await redeem("redeem-2", chain, net.url, { node: nodeKeyFile, eth: ethKeyFile }, false);
    expect(again.redemptions).toEqual([]);
  });

  it("refuses a voucher request that is not signed by the provider's node key", async () => {
    expect((await fetch(`${net.url}/v1/provider/vouchers`)).status).toBe(401);
  });
});
