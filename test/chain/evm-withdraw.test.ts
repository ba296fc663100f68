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
import { accounts } from "@tessera/core";
import { loadBuiltinModule } from "@tessera/runtimes";
import { TesseraClient } from "@tessera/sdk";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmGatewayFlags, redeem, startChain, type TestChain } from "../helpers/devnet.js";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";

const DEPOSIT = 50_000_000_000n;
/** where the consumer wants its money: an address nobody else uses here */
const PAYEE = privateKeyToAccount(`0x${"5".repeat(64)}`).address;
/** where the CLI's withdrawal goes */
const CLI_PAYEE = privateKeyToAccount(`0x${"6".repeat(64)}`).address;

interface WithdrawalView {
  id: string;
  status: string;
  amount: string;
  to: string;
  readyAt: number;
  paid: string | null;
  transferTx: string | null;
}

describe("consumer withdrawals through the custodian (--settlement evm)", () => {
  const net = new TestNetwork();
  let chain: TestChain;
  let rpc: string;
  let depFile: string;
  let dep: ReturnType<typeof readDeployment>;
  let admin: Awaited<ReturnType<typeof clientsFor>>;
  let client: TesseraClient;
  let apiKey: string;
  let consumerId: string;
  let consumerAddress: Address;

  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${net.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const account = async () =>
    (await call("GET", "/v1/settlement/account")).body as {
      deposit: string;
      headroom: string;
      pendingWithdrawal: string;
    };
  const withdrawals = async () => (await call("GET", "/v1/settlement/withdrawals")).body.data as WithdrawalView[];
  const mined = async (p: Promise<Hex>) =>
    expect((await admin.public.waitForTransactionReceipt({ hash: await p })).status).toBe("success");
  const tokens = (a: Address) =>
    admin.public.readContract({ address: dep.token, abi: TestTokenAbi, functionName: "balanceOf", args: [a] });
  const escrowBalance = () =>
    admin.public.readContract({
      address: dep.escrow,
      abi: EscrowAbi,
      functionName: "balanceOf",
      args: [consumerAddress],
    });
  const rpcCall = async (method: string, params: unknown[]) => {
    const r = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return (await r.json()) as { result?: unknown; error?: unknown };
  };

  beforeAll(async () => {
    chain = await startChain(net.dir);
    ({ rpc, depFile } = chain);
    dep = readDeployment(depFile);
    admin = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
    const w = { chain: admin.wallet.chain ?? null, account: admin.wallet.account };
    const gatewayKey = join(net.dir, "gateway.eth.key");
    await mined(admin.wallet.sendTransaction({ ...w, to: loadOrCreateEthKey(gatewayKey).address, value: 10n ** 18n }));
    await net.startGateway(evmGatewayFlags(chain, ["--chain-key", gatewayKey]));
    await net.startProvider({
      models: [],
      extra: ["--runtimes", "wasm", "--eth-key", join(net.dir, "provider.eth.key")],
    });
    await net.waitForProviders(1);
    const c = await net.admin.createConsumer("withdrawing-consumer");
    apiKey = c.apiKey;
    consumerId = c.id;
    client = new TesseraClient({ baseUrl: net.url, apiKey, adminKey: net.adminKey });
    consumerAddress = (await call("GET", "/v1/settlement/account")).body.address as Address;
    await mintAndDepositFor(admin, dep, consumerAddress, DEPOSIT);
    await until("deposit credited", async () => BigInt((await account()).headroom) === DEPOSIT);
  }, 120_000);
  afterAll(async () => {
    await net.stop();
    await chain?.proc.kill("SIGTERM");
  });

  it("withdraws headroom to the named address after the contract's delay; what providers are owed stays", async () => {
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const job = await client.waitForJob(
      (
        await client.submitJob({
          runtime: "wasm",
          module: reverse,
          input: { data: Buffer.from("abc").toString("base64") },
        })
      ).id,
    );
    expect(job.status).toBe("completed");
    const cost = BigInt(job.cost ?? "0");
    expect(cost > 0n).toBe(true);
    const headroom = DEPOSIT - cost;
    expect(BigInt((await account()).headroom)).toBe(headroom);

    // more than headroom would take what the provider is owed: refused, nothing requested
    const tooMuch = await call("POST", "/v1/settlement/withdraw", { amount: (headroom + 1n).toString(), to: PAYEE });
    expect(tooMuch.status).toBe(402);
    expect((await call("POST", "/v1/settlement/withdraw", { amount: "5", to: "nowhere" })).status).toBe(400);
    expect(await withdrawals()).toEqual([]);

    const amount = headroom / 2n;
    const asked = await call("POST", "/v1/settlement/withdraw", { amount: amount.toString(), to: PAYEE });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: "requested", amount: amount.toString(), to: PAYEE });
    // the requested amount is no longer spendable, and a second request waits for the first
    const after = await account();
    expect(BigInt(after.headroom)).toBe(headroom - amount);
    expect(after.pendingWithdrawal).toBe(amount.toString());
    expect((await call("POST", "/v1/settlement/withdraw", { amount: "1", to: PAYEE })).status).toBe(409);

    // nothing moves before the contract's delay
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await withdrawals())[0]?.status).toBe("requested");
    expect(await tokens(PAYEE)).toBe(0n);

    // the devnet's clock passes the delay; the gateway withdraws and pays the named address
    expect((await rpcCall("evm_increaseTime", [dep.params.withdrawDelay + 1])).error).toBeUndefined();
    expect((await rpcCall("evm_mine", [])).error).toBeUndefined();
    const done = await until("withdrawal paid", async () => {
      const w = (await withdrawals())[0];
      return w?.status === "paid" ? w : undefined;
    });
    expect(done.paid).toBe(amount.toString());
    expect(await tokens(PAYEE)).toBe(amount);
    expect(await escrowBalance()).toBe(DEPOSIT - amount);

    // the ledger mirrors it once, and the consumer's headroom is what is left
    const ledger = await until("withdrawal mirrored", async () => {
      const l = await net.admin.ledger();
      return l.accounts[accounts.available(consumerId)] === (DEPOSIT - cost - amount).toString() ? l : undefined;
    });
    expect(ledger.ok).toBe(true);
    expect(BigInt(ledger.netDeposited)).toBe(DEPOSIT - amount);
    expect(BigInt((await account()).headroom)).toBe(headroom - amount);
    expect((await account()).pendingWithdrawal).toBe("0");

    // the provider's voucher is still fully covered: it redeems the job's whole cost
    const eth = loadOrCreateEthKey(join(net.dir, "provider.eth.key"));
    const w = { chain: admin.wallet.chain ?? null, account: admin.wallet.account };
    await mined(admin.wallet.sendTransaction({ ...w, to: eth.address, value: 10n ** 18n }));
    await redeem("redeem", chain, net.url, {
      node: join(net.dir, "provider-1", "node.key"),
      eth: join(net.dir, "provider.eth.key"),
    });
    expect(await escrowBalance()).toBe(DEPOSIT - amount - cost);

    // a zero amount is malformed
    expect((await call("POST", "/v1/settlement/withdraw", { amount: "0", to: PAYEE })).status).toBe(400);
  }, 120_000);
  it("`tessera withdraw` requests a withdrawal as a process and `tessera withdraw list` shows it through to paid", async () => {
    const cli = async (args: string[]) => {
      const p = spawnTessera(`withdraw-${args[0]}`, ["withdraw", ...args, "--gateway", net.url, "--api-key", apiKey]);
      return { code: await p.exited, out: p.output() };
    };
    /** the JSON the command printed (from its first line that opens an object or array) */
    const last = (out: string) => JSON.parse(out.slice(out.search(/^[[{]/m)));
    const headroom = BigInt((await account()).headroom);
    expect(headroom > 0n).toBe(true);

    // above headroom: the gateway's 402 named, exit 1, nothing requested
    const tooMuch = await cli(["--amount", (headroom + 1n).toString(), "--to", CLI_PAYEE]);
    expect(tooMuch.code, tooMuch.out).toBe(1);
    expect(tooMuch.out).toContain("error: insufficient_balance");
    const bad = await cli(["--amount", "5", "--to", "nowhere"]);
    expect(bad.code, bad.out).toBe(1);
    expect(bad.out).toContain("--to must be");
    expect((await withdrawals()).filter((w) => w.to === CLI_PAYEE)).toEqual([]);

    const amount = headroom / 4n;
    const asked = await cli(["--amount", amount.toString(), "--to", CLI_PAYEE, "--json"]);
    expect(asked.code, asked.out).toBe(0);
    const requested = last(asked.out) as WithdrawalView;
    expect(requested).toMatchObject({ status: "requested", amount: amount.toString(), to: CLI_PAYEE });
    expect(BigInt((await account()).headroom)).toBe(headroom - amount);
    // a second one waits for the first: the gateway's 409, exit 1
    const second = await cli(["--amount", "1", "--to", CLI_PAYEE]);
    expect(second.code, second.out).toBe(1);
    expect(second.out).toContain("error: withdrawal_refused");

    const listed = await cli(["list", "--json"]);
    expect(listed.code, listed.out).toBe(0);
    const rows = last(listed.out) as WithdrawalView[];
    expect(rows[0]).toMatchObject({ id: requested.id, status: "requested", amount: amount.toString() });
    expect(rows.map((w) => w.id)).toEqual((await withdrawals()).map((w) => w.id));

    expect((await rpcCall("evm_increaseTime", [dep.params.withdrawDelay + 1])).error).toBeUndefined();
    expect((await rpcCall("evm_mine", [])).error).toBeUndefined();
    await until("CLI withdrawal paid", async () =>
      (await withdrawals()).find((w) => w.id === requested.id && w.status === "paid"),
    );
    expect(await tokens(CLI_PAYEE)).toBe(amount);
    // the plain listing names it paid, to the address asked for
    const text = await cli(["list"]);
    expect(text.code, text.out).toBe(0);
    const line = text.out.split("\n").find((l) => l.startsWith(requested.id)) ?? "";
    expect(line).toMatch(/ paid /);
    expect(line).toContain(CLI_PAYEE);
  }, 120_000);
});
