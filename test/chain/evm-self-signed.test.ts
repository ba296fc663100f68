// Consumers who sign their own vouchers under --settlement evm, as real processes over JSON-RPC:
// `tessera chain up`, a gateway, a provider with --eth-key. The consumer binds its own address
// (`tessera settlement bind`), deposits from it, runs jobs the gateway settles but never signs
// for, is refused new work past --voucher-credit while vouchers are unsigned, signs with
// `tessera vouchers sign` and the SDK, and the provider redeems with `tessera chain redeem`.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  clientsFor,
  DEVNET_DEPLOYER_KEY,
  EscrowAbi,
  escrowDomain,
  loadOrCreateEthKey,
  readDeployment,
  TestTokenAbi,
  voucherTypes,
} from "@tessera/chain";
import { accounts, FEES } from "@tessera/core";
import { loadBuiltinModule } from "@tessera/runtimes";
import { TesseraClient } from "@tessera/sdk";
import { VoucherSigner } from "@tessera/sdk/vouchers";
import type { Address, Hex } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmGatewayFlags, redeem, startChain, type TestChain } from "../helpers/devnet.js";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const DEPOSIT = 50_000_000_000n;

interface Due {
  consumer: string;
  unsigned: string;
  data: { providerId: string; provider: Address; cumulative: string; signed: string }[];
}

describe("consumers who sign their own vouchers (--settlement evm)", () => {
  const net = new TestNetwork();
  let chain: TestChain;
  let rpc: string;
  let depFile: string;
  let ethKeyFile: string;
  let nodeKeyFile: string;
  let consumerKeyFile: string;
  let own: PrivateKeyAccount;
  const stranger = privateKeyToAccount(generatePrivateKey());
  let apiKey: string;
  let otherKey: string;
  let client: TesseraClient;
  let consumerId: string;
  let reverse: string;
  let escrowOfJob = 0n;
  let firstCost = 0n;

  const call = async (path: string, key: string, body?: unknown) => {
    const r = await fetch(`${net.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> & { error?: { code: string } } };
  };
  const due = async () => (await call("/v1/settlement/vouchers/due", apiKey)).body as unknown as Due;
  const account = async () =>
    (await call("/v1/settlement/account", apiKey)).body as {
      address: string;
      headroom: string;
      signer: string;
      unsigned?: string;
    };
  const job = (s: string) => client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(s) } });
  const cli = (name: string, args: string[]) =>
    spawnTessera(name, [...args, "--gateway", net.url, "--api-key", apiKey, "--json"]);
  const redeemNow = (name: string) => redeem(name, chain, net.url, { node: nodeKeyFile, eth: ethKeyFile });
  const sign = (signer: PrivateKeyAccount, provider: Address, cumulative: bigint, chainId?: number) => {
    const dep = readDeployment(depFile);
    return signer.signTypedData({
      domain: escrowDomain(chainId ?? dep.chainId, dep.escrow),
      types: voucherTypes,
      primaryType: "Voucher",
      message: { consumer: own.address, provider, cumulative },
    });
  };

  beforeAll(async () => {
    chain = await startChain(net.dir);
    ({ rpc, depFile } = chain);
    // first with credit to spare: the credit test restarts it with a limit cut to the job's escrow
    await net.startGateway(evmGatewayFlags(chain, ["--voucher-credit", DEPOSIT.toString()]));
    const dataDir = join(net.dir, "provider-1");
    mkdirSync(dataDir, { recursive: true });
    ethKeyFile = join(dataDir, "eth.key");
    nodeKeyFile = join(dataDir, "node.key");
    await net.startProvider({ models: [], extra: ["--runtimes", "wasm", "--eth-key", ethKeyFile] });
    await net.waitForProviders(1);
    const c = await net.admin.createConsumer("self-signer");
    apiKey = c.apiKey;
    otherKey = (await net.admin.createConsumer("someone-else")).apiKey;
    client = new TesseraClient({ baseUrl: net.url, apiKey, adminKey: net.adminKey });
    consumerId = (await client.account()).id;
    consumerKeyFile = join(net.dir, "consumer.eth.key");
    own = loadOrCreateEthKey(consumerKeyFile).account;
    reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  }, 120_000);
  afterAll(async () => {
    await net.stop();
    await chain?.proc.kill("SIGTERM");
  });

  it("binds the consumer's own address with `tessera settlement bind`; other signers and taken addresses are refused", async () => {
    const before = (await call("/v1/settlement/address", apiKey)).body as { message: string; signer: string };
    expect(before).toMatchObject({ signer: "custodian", address: null });
    expect(before.message).toContain(consumerId);

    // signed by another key, or by the right key over another consumer's message
    const wrong = await call("/v1/settlement/address", apiKey, {
      address: own.address,
      signature: await stranger.signMessage({ message: before.message }),
    });
    expect([wrong.status, wrong.body.error?.code]).toEqual([403, "wrong_signer"]);
    const theirs = (await call("/v1/settlement/address", otherKey)).body as { message: string };
    const replayed = await call("/v1/settlement/address", apiKey, {
      address: own.address,
      signature: await own.signMessage({ message: theirs.message }),
    });
    expect(replayed.status).toBe(403);
    const malformed = await call("/v1/settlement/address", apiKey, { address: "0x12", signature: "0x" });
    expect(malformed.status).toBe(400);
    expect((await account()).signer).toBe("custodian");

    const bind = cli("bind", ["settlement", "bind", "--eth-key", consumerKeyFile]);
    expect(await bind.exited).toBe(0);
    expect(JSON.parse(bind.output().trim().split("\n").pop()!)).toEqual({ address: own.address, created: true });
    const again = cli("bind-2", ["settlement", "bind", "--eth-key", consumerKeyFile]);
    expect(await again.exited).toBe(0);
    expect(JSON.parse(again.output().trim().split("\n").pop()!)).toMatchObject({ created: false });
    expect(await account()).toMatchObject({ address: own.address, signer: "consumer", unsigned: "0" });

    // another consumer cannot take the same address, even with its owner's signature
    const taken = await call("/v1/settlement/address", otherKey, {
      address: own.address,
      signature: await own.signMessage({ message: theirs.message }),
    });
    expect([taken.status, taken.body.error?.code]).toEqual([409, "address_taken"]);
    expect((await call("/v1/settlement/address", otherKey)).body).toMatchObject({ signer: "custodian", address: null });
    // a bound consumer holds its own key: the gateway does not withdraw for it
    const w = await call("/v1/settlement/withdraw", apiKey, { amount: "1", to: own.address });
    expect([w.status, w.body.error?.code]).toEqual([409, "withdraw_yourself"]);
    expect(await due()).toMatchObject({ consumer: own.address, unsigned: "0", data: [] });
  });

  it("credits a deposit made from the consumer's own address", async () => {
    const dep = readDeployment(depFile);
    const admin = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
    const mine = await clientsFor(rpc, loadOrCreateEthKey(consumerKeyFile).privateKey);
    const ok = async (c: typeof admin, p: Promise<Hex>) =>
      expect((await c.public.waitForTransactionReceipt({ hash: await p })).status).toBe("success");
    const a = { chain: admin.wallet.chain ?? null, account: admin.wallet.account };
    await ok(admin, admin.wallet.sendTransaction({ ...a, to: own.address, value: 10n ** 18n }));
    await ok(
      admin,
      admin.wallet.writeContract({
        ...a,
        address: dep.token,
        abi: TestTokenAbi,
        functionName: "mint",
        args: [own.address, DEPOSIT],
      }),
    );
    const m = { chain: mine.wallet.chain ?? null, account: mine.wallet.account };
    await ok(
      mine,
      mine.wallet.writeContract({
        ...m,
        address: dep.token,
        abi: TestTokenAbi,
        functionName: "approve",
        args: [dep.escrow, DEPOSIT],
      }),
    );
    await ok(
      mine,
      mine.wallet.writeContract({
        ...m,
        address: dep.escrow,
        abi: EscrowAbi,
        functionName: "deposit",
        args: [DEPOSIT],
      }),
    );
    await until("deposit credited", async () => BigInt((await account()).headroom) === DEPOSIT);
    expect(BigInt((await client.account()).balance)).toBe(DEPOSIT);

    // a consumer with money at its custodial address cannot move to its own key: that deposit is the custodian's to sign for
    const custodial = (await call("/v1/settlement/account", otherKey)).body as { address: Address };
    await ok(
      admin,
      admin.wallet.writeContract({
        ...a,
        address: dep.token,
        abi: TestTokenAbi,
        functionName: "mint",
        args: [admin.wallet.account.address, 5n],
      }),
    );
    await ok(
      admin,
      admin.wallet.writeContract({
        ...a,
        address: dep.token,
        abi: TestTokenAbi,
        functionName: "approve",
        args: [dep.escrow, 5n],
      }),
    );
    await ok(
      admin,
      admin.wallet.writeContract({
        ...a,
        address: dep.escrow,
        abi: EscrowAbi,
        functionName: "depositFor",
        args: [custodial.address, 5n],
      }),
    );
    const late = privateKeyToAccount(generatePrivateKey());
    const message = ((await call("/v1/settlement/address", otherKey)).body as { message: string }).message;
    const refused = await call("/v1/settlement/address", otherKey, {
      address: late.address,
      signature: await late.signMessage({ message }),
    });
    expect([refused.status, refused.body.error?.code]).toEqual([409, "custodial_history"]);
    expect((await call("/v1/settlement/address", otherKey)).body).toMatchObject({ signer: "custodian", address: null });
  });

  it("settles without signing, and refuses new work past --voucher-credit while vouchers are unsigned", async () => {
    const first = await client.waitForJob((await job("alpha")).id);
    expect(first.status).toBe("completed");
    firstCost = BigInt(first.cost!);
    escrowOfJob = BigInt(first.escrow);
    expect(firstCost > 0n).toBe(true);
    const d = await due();
    expect(d.data).toHaveLength(1);
    expect(d.data[0]).toMatchObject({ providerId: first.provider, cumulative: firstCost.toString(), signed: "0" });
    expect(d.unsigned).toBe(firstCost.toString());
    // the gateway signed nothing: the provider has nothing to redeem
    expect((await redeemNow("redeem-none")).redemptions).toEqual([]);

    // room for exactly one more job while the first is unsigned (the binding survives the restart)
    const limit = firstCost + escrowOfJob;
    await net.gateway!.kill("SIGTERM");
    await net.startGateway(evmGatewayFlags(chain, ["--voucher-credit", limit.toString()]));
    await net.waitForProviders(1);
    expect((await account()).signer).toBe("consumer");
    const second = await client.waitForJob((await job("beta")).id);
    expect(second.status).toBe("completed");
    expect(BigInt(second.escrow)).toBe(escrowOfJob);
    const unsigned = firstCost + BigInt(second.cost!);
    const balance = (await client.account()).balance;
    const refused = await call("/v1/jobs", apiKey, { runtime: "wasm", module: reverse, input: { data: b64("gamma") } });
    expect([refused.status, refused.body.error?.code]).toEqual([402, "vouchers_unsigned"]);
    expect(JSON.stringify(refused.body)).toContain("Sign your due vouchers");
    expect((await client.account()).balance).toBe(balance);
    expect((await due()).unsigned).toBe(unsigned.toString());
    expect((await account()).unsigned).toBe(unsigned.toString());
  });

  it("refuses forged, wrong-signer, wrong-domain and wrong-amount vouchers with nothing changed", async () => {
    const before = await due();
    const [v] = before.data;
    const total = BigInt(v!.cumulative);
    const post = async (cumulative: bigint, signature: Hex, key = apiKey) =>
      call("/v1/settlement/vouchers", key, { providerId: v!.providerId, cumulative: cumulative.toString(), signature });
    const cases: [string, Awaited<ReturnType<typeof post>>, number, string][] = [
      ["another key", await post(total, await sign(stranger, v!.provider, total)), 403, "wrong_signer"],
      ["another chain", await post(total, await sign(own, v!.provider, total, 999)), 403, "wrong_signer"],
      ["for less", await post(total - 1n, await sign(own, v!.provider, total - 1n)), 409, "wrong_amount"],
      ["for more", await post(total + 1n, await sign(own, v!.provider, total + 1n)), 409, "wrong_amount"],
      ["amount swapped", await post(total, await sign(own, v!.provider, total + 1n)), 403, "wrong_signer"],
      ["forged", await post(total, `0x${"11".repeat(65)}`), 400, "bad_signature"],
      ["unbound consumer", await post(total, await sign(own, v!.provider, total), otherKey), 409, "not_bound"],
    ];
    for (const [name, r, status, code] of cases)
      expect([name, r.status, r.body.error?.code]).toEqual([name, status, code]);
    const malformed = await call("/v1/settlement/vouchers", apiKey, { providerId: v!.providerId, cumulative: "-1" });
    expect(malformed.status).toBe(400);
    expect(await due()).toEqual(before);
    expect((await redeemNow("redeem-still-none")).redemptions).toEqual([]);
  });

  it("signs with `tessera vouchers sign` and the SDK; replays are refused; the provider redeems gross − fee", async () => {
    const owed = BigInt((await due()).unsigned);
    const signCli = cli("sign", ["vouchers", "sign", "--eth-key", consumerKeyFile]);
    expect(await signCli.exited).toBe(0);
    const signed = JSON.parse(signCli.output().trim().split("\n").pop()!) as {
      signed: { cumulative: string; signature: Hex; providerId: string }[];
    };
    expect(signed.signed.map((s) => s.cumulative)).toEqual([owed.toString()]);
    expect(await due()).toMatchObject({ unsigned: "0", data: [] });
    const replay = await call("/v1/settlement/vouchers", apiKey, {
      providerId: signed.signed[0]!.providerId,
      cumulative: owed.toString(),
      signature: signed.signed[0]!.signature,
    });
    expect([replay.status, replay.body.error?.code]).toEqual([409, "nothing_due"]);
    const none = cli("sign-none", ["vouchers", "sign", "--eth-key", consumerKeyFile]);
    expect(await none.exited).toBe(0);
    expect(JSON.parse(none.output().trim().split("\n").pop()!)).toEqual({ signed: [] });

    // signed: work is admitted again; the SDK signs what the next job adds
    const third = await client.waitForJob((await job("gamma")).id);
    expect(third.status).toBe("completed");
    const gross = owed + BigInt(third.cost!);
    const sdk = new VoucherSigner({ client, account: own });
    expect((await sdk.signDue()).map((s) => s.cumulative)).toEqual([gross.toString()]);
    expect(await sdk.signDue()).toEqual([]);

    const dep = readDeployment(depFile);
    const admin = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);
    const eth = loadOrCreateEthKey(ethKeyFile);
    await admin.public.waitForTransactionReceipt({
      hash: await admin.wallet.sendTransaction({
        chain: admin.wallet.chain ?? null,
        account: admin.wallet.account,
        to: eth.address,
        value: 10n ** 18n,
      }),
    });
    const out = await redeemNow("redeem");
    expect(out.redemptions.map((r) => r.cumulative)).toEqual([gross.toString()]);
    const fee = (gross * BigInt(dep.params.feeBps)) / 10_000n;
    const read = (address: Address, abi: typeof TestTokenAbi | typeof EscrowAbi, who: Address) =>
      admin.public.readContract({ address, abi, functionName: "balanceOf", args: [who] } as never) as Promise<bigint>;
    expect(await read(dep.token, TestTokenAbi, eth.address)).toBe(gross - fee);
    expect(await read(dep.escrow, EscrowAbi, own.address)).toBe(DEPOSIT - gross);

    const providerId = third.provider!;
    const ledger = await until("redemption mirrored", async () => {
      const l = await net.admin.ledger();
      return (l.accounts[accounts.earnings(providerId)] ?? "0") === "0" ? l : undefined;
    });
    expect(ledger.ok).toBe(true);
    expect(ledger.accounts[accounts.available(consumerId)]).toBe((DEPOSIT - gross).toString());
    expect(ledger.accounts[FEES] ?? "0").toBe("0");
    // the other consumer's 5 nc custodial deposit is in the book too
    expect(BigInt(ledger.netDeposited)).toBe(DEPOSIT + 5n - gross);
    expect(BigInt((await account()).headroom)).toBe(DEPOSIT - gross);
    expect((await redeemNow("redeem-again")).redemptions).toEqual([]);
  });

  it("keeps signing as jobs settle with `tessera vouchers sign --watch`", async () => {
    const watch = spawnTessera("sign-watch", [
      "vouchers",
      "sign",
      "--eth-key",
      consumerKeyFile,
      "--watch",
      "--interval-ms",
      "100",
      "--gateway",
      net.url,
      "--api-key",
      apiKey,
      "--json",
    ]);
    try {
      for (const s of ["delta", "epsilon"]) {
        const done = await client.waitForJob((await job(s)).id);
        expect(done.status).toBe("completed");
        expect(BigInt(done.cost!) > 0n).toBe(true);
        await until(
          "signed by the watcher",
          async () => (await due()).unsigned === "0" && (await due()).data.length === 0,
        );
      }
      // each voucher it handed in is printed as one JSON line, after the gateway took it: the line
      // may still be on its way through the pipe when the gateway already shows nothing due
      const printed = () =>
        watch
          .output()
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as { cumulative: string });
      await until("the watcher to print both vouchers", () => printed().length >= 2);
    } finally {
      expect(await watch.kill("SIGTERM")).toBe(0);
    }
  });
});
