// Slashing on chain from the gateway, with real processes over JSON-RPC: `tessera chain up`, a
// gateway with --settlement evm, two verifiers, an honest provider, a provider cheating on a
// seeded half of its jobs (test/helpers/adversary.ts) and one signing its evidence with a key it
// does not advertise — every node staked in ProviderRegistry with `tessera chain stake`. The
// gateway schedules on registry stake, checks every EIP-712 Result and Verdict on arrival, and
// when two verdicts go against the cheater submits Slashing.slashProvider itself: the registry
// stake drops by the contract's amount, the consumer's custodial address gets the refund, the
// verifiers their reward, the local ledger mirrors it once, and the same evidence cannot be used again.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  clientsFor,
  DEVNET_DEPLOYER_KEY,
  decodeRevert,
  EscrowAbi,
  loadOrCreateEthKey,
  mintAndDepositFor,
  ProviderRegistryAbi,
  readDeployment,
  stakeOf,
  submitSlash,
  TestTokenAbi,
} from "@tessera/chain";
import { accounts } from "@tessera/core";
import { TesseraClient } from "@tessera/sdk";
import type { Address, Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt, launchBrowser } from "../dashboard/browser.js";
import { evmGatewayFlags, redeem, startChain, type TestChain } from "../helpers/devnet.js";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";
import { greedyTinyJob, verificationReads } from "../helpers/verification.js";

const DEPOSIT = 500_000_000_000n;
const PROVIDER_STAKE = 200_000_000_000n;
const VERIFIER_STAKE = 150_000_000_000n;
/** adversary cheat-q=0.5 with seed 1 runs its 1st job honestly and cheats on its 2nd */
const CHEAT_SEED = 1;

interface ChainSlashView {
  auditId: string;
  jobId: string;
  providerId: string;
  status: string;
  attempts: number;
  error: string | null;
  tx: string | null;
  taken: string | null;
  refund: string | null;
  reward: string | null;
  result: {
    jobId: string;
    attempt: number;
    outputHash: string;
    standardUnits: number;
    consumerAddress: string;
    cost: string;
    signature: string;
  } | null;
  verdicts: Array<{ verifierId: string; valid: boolean; issuedAt: number; signature: string }>;
}

describe("slashing on chain from the gateway (--settlement evm)", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  let chain: TestChain;
  let rpc: string;
  let depFile: string;
  let dep: ReturnType<typeof readDeployment>;
  let admin: Awaited<ReturnType<typeof clientsFor>>;
  let client: TesseraClient;
  let apiKey: string;
  let consumerId: string;
  let consumerAddress: Address;
  const keys = (name: string) => {
    mkdirSync(join(net.dir, "keys"), { recursive: true });
    return join(net.dir, "keys", `${name}.eth.key`);
  };
  const addr = (name: string) => loadOrCreateEthKey(keys(name)).address;
  const bonded = async (name: string) => (await stakeOf(admin, dep.registry, addr(name))).bonded;
  const tokens = (a: Address) =>
    admin.public.readContract({ address: dep.token, abi: TestTokenAbi, functionName: "balanceOf", args: [a] });
  const mined = async (p: Promise<Hex>) =>
    expect((await admin.public.waitForTransactionReceipt({ hash: await p })).status).toBe("success");
  const settlementAccount = async () => {
    const r = await fetch(`${net.url}/v1/settlement/account`, { headers: { authorization: `Bearer ${apiKey}` } });
    return (await r.json()) as { address: Address; deposit: string; headroom: string };
  };
  const chainSlashes = async () =>
    ((await (await fetch(`${net.url}/v1/verification/chain-slashes`)).json()) as { data: ChainSlashView[] }).data;
  const submit = (region: string, prompt = "The world is") => client.submitJob(greedyTinyJob(prompt, region));
  interface ExplorerRow {
    id: string;
    region: string;
    stake: string;
    unbonding: string;
  }
  /** the explorer's provider list sorted by stake, as the dashboard reads it */
  const explorerByStake = async () =>
    ((await (await fetch(`${net.url}/v1/explorer/providers?sort=stake&limit=200`)).json()) as { data: ExplorerRow[] })
      .data;
  const rpcCall = async (method: string, params: unknown[]) => {
    const r = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return (await r.json()) as { result?: unknown; error?: unknown };
  };
  /** `tessera chain <command>` from a node's eth key, as a process: exit code and its last line */
  const chainCli = async (command: string, name: string, extra: string[] = []) => {
    const p = spawnTessera(`${command}-${name}`, [
      "chain",
      command,
      "--rpc",
      rpc,
      "--contracts",
      depFile,
      "--eth-key",
      keys(name),
      "--json",
      ...extra,
    ]);
    const code = await p.exited;
    const out = p.output();
    const json = out
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .pop();
    const parsed = JSON.parse(json ?? "{}") as Record<string, string> & { error?: { message: string } };
    // a refusal is { error: { code, message } } as every command fails (lib/failure.ts)
    return { code, out, json: parsed, refusal: parsed.error?.message };
  };
  const stake = async (name: string, amount: bigint) => {
    const p = spawnTessera(`stake-${name}`, [
      "chain",
      "stake",
      "--rpc",
      rpc,
      "--contracts",
      depFile,
      "--eth-key",
      keys(name),
      "--amount",
      amount.toString(),
      "--faucet",
      "--json",
    ]);
    expect(await p.exited, p.output()).toBe(0);
    return JSON.parse(p.output().trim().split("\n").pop() ?? "{}") as { action: string; bonded: string };
  };

  beforeAll(async () => {
    chain = await startChain(net.dir);
    ({ rpc, depFile } = chain);
    dep = readDeployment(depFile);
    admin = await clientsFor(rpc, DEVNET_DEPLOYER_KEY);

    // every node bonds stake from its own eth key (the devnet faucet gives it tokens and gas)
    for (const name of ["verifier-a", "verifier-b"]) await stake(name, VERIFIER_STAKE);
    for (const name of ["honest", "cheater", "liar"]) await stake(name, PROVIDER_STAKE);
    // the gateway pays the gas of the slashes it submits: it gets none until the cheater test

    await net.startGateway(
      evmGatewayFlags(chain, [
        "--chain-key",
        keys("gateway"),
        "--min-stake",
        dep.params.minStake.toString(),
        "--audit-new-rate",
        "1",
        "--audit-floor",
        "1",
        "--pass-recheck-rate",
        "0",
      ]),
    );
    await net.startProvider({
      region: "verifier-a",
      extra: ["--verify", "--operator", "op-a", "--threads", "2", "--eth-key", keys("verifier-a")],
    });
    await net.startProvider({
      region: "verifier-b",
      extra: ["--verify", "--operator", "op-b", "--batch-size", "64", "--eth-key", keys("verifier-b")],
    });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h", "--eth-key", keys("honest")] });
    await net.startAdversary("cheat-q=0.5", {
      operator: "op-cheat",
      region: "cheat",
      seed: CHEAT_SEED,
      keyFile: net.nodeKey("cheater").keyFile,
      ethKeyFile: keys("cheater"),
    });
    await net.startAdversary("cheat-q=0", {
      operator: "op-liar",
      region: "liar",
      ethKeyFile: keys("liar"),
      wrongEthSigner: true,
    });
    await net.waitForProviders(5);

    const c = await net.admin.createConsumer("chain-slash-consumer");
    apiKey = c.apiKey;
    consumerId = c.id;
    client = new TesseraClient({ baseUrl: net.url, apiKey, adminKey: net.adminKey });
    consumerAddress = (await settlementAccount()).address;
    await mintAndDepositFor(admin, dep, consumerAddress, DEPOSIT);
    await until("deposit credited", async () => BigInt((await settlementAccount()).headroom) === DEPOSIT);
  }, 240_000);
  afterAll(async () => {
    await net.stop();
    await chain?.proc.kill("SIGTERM");
  });

  it("reads every node's stake from ProviderRegistry", async () => {
    for (const [name, amount] of [
      ["verifier-a", VERIFIER_STAKE],
      ["honest", PROVIDER_STAKE],
      ["cheater", PROVIDER_STAKE],
    ] as const) {
      expect(await bonded(name)).toBe(amount);
      const node = await until(`${name} stake seen`, async () => {
        const n = (await reads.nodes()).find((x) => x.region === (name === "cheater" ? "cheat" : name));
        return n && BigInt(n.stake) === amount ? n : undefined;
      });
      expect(node.excluded).toBe(false);
    }
    // the explorer's list (what the dashboard's providers page reads) shows the registry's stake too,
    // sorted by it: providers at PROVIDER_STAKE ahead of the verifiers at VERIFIER_STAKE
    const rows = await until("explorer shows registry stake", async () => {
      const r = await explorerByStake();
      return r.length === 5 && r.every((x) => x.stake !== "0") ? r : undefined;
    });
    expect(rows.map((r) => [r.region, r.stake, r.unbonding])).toEqual([
      ...["cheat", "honest", "liar"]
        .map((region) => ({ region, id: rows.find((r) => r.region === region)?.id ?? "" }))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((x) => [x.region, PROVIDER_STAKE.toString(), "0"]),
      ...["verifier-a", "verifier-b"]
        .map((region) => ({ region, id: rows.find((r) => r.region === region)?.id ?? "" }))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((x) => [x.region, VERIFIER_STAKE.toString(), "0"]),
    ]);
  });

  it("refuses stake on the local ledger: it is bonded in ProviderRegistry", async () => {
    const honest = await until("honest listed", () => reads.byRegion("honest"));
    const r = await fetch(`${net.url}/v1/admin/stake`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ providerId: honest.id, amount: "5" }),
    });
    expect(r.status).toBe(409);
  });

  it("runs and audits an honest provider's jobs on signed evidence without touching its stake", async () => {
    const job = await client.waitForJob((await submit("honest")).id);
    expect(job.status).toBe("completed");
    const audits = await until("honest audit decided", async () => {
      const a = await reads.audits(job.id);
      return a.length > 0 && a.every((x) => x.status !== "pending") ? a : undefined;
    });
    expect(audits.map((a) => a.status)).toEqual(["passed"]);
    expect(await bonded("honest")).toBe(PROVIDER_STAKE);
  });

  it("refuses a result whose EIP-712 signature is not by the provider's registered address, changing nothing", async () => {
    const before = await net.admin.ledger();
    const headroom = (await settlementAccount()).headroom;
    const job = await client.waitForJob((await submit("liar")).id);
    expect(job.status).toBe("failed");
    expect(job.error).toMatch(/EIP-712 result signature is not by the provider's registered eth address/);
    expect(job.cost ?? "0").toBe("0");
    const after = await net.admin.ledger();
    expect(after.ok).toBe(true);
    expect(after.accounts[accounts.available(consumerId)]).toBe(before.accounts[accounts.available(consumerId)]);
    const liar = await reads.byRegion("liar");
    expect(after.accounts[accounts.earnings(liar?.id ?? "")] ?? "0").toBe("0");
    expect(await bonded("liar")).toBe(PROVIDER_STAKE);
    expect((await settlementAccount()).headroom).toBe(headroom);
  });

  it("slashes a cheating provider on chain with the signed evidence, once", async () => {
    const cheater = await until("cheater listed", () => reads.byRegion("cheat"));
    // its 1st job is honest: audited, passed, paid by voucher and redeemed on chain, so the
    // contract can refund the consumer from it (it refunds no more than was paid through the escrow)
    const first = await client.waitForJob((await submit("cheat")).id);
    expect(first.status).toBe("completed");
    await until("first cheat-region audit passed", async () => {
      const a = await reads.audits(first.id);
      return a.length > 0 && a.every((x) => x.status === "passed") ? a : undefined;
    });
    await redeem("redeem-cheater", chain, net.url, { node: net.nodeKey("cheater").keyFile, eth: keys("cheater") });
    const redeemed = await admin.public.readContract({
      address: dep.escrow,
      abi: EscrowAbi,
      functionName: "redeemed",
      args: [consumerAddress, addr("cheater")],
    });
    expect(redeemed).toBe(BigInt(first.cost ?? "0"));

    const [verifierA, verifierB, consumerTokens, honestBefore] = await Promise.all([
      tokens(addr("verifier-a")),
      tokens(addr("verifier-b")),
      tokens(consumerAddress),
      bonded("honest"),
    ]);
    // its 2nd job is cheated: two verdicts against it, and the gateway submits the evidence
    const second = await client.waitForJob((await submit("cheat")).id);
    expect(second.status).toBe("completed");
    // the gateway's account has no gas yet: the submission fails, is logged and retried, and the
    // gateway keeps serving
    const failing = await until(
      "a failed slash submission",
      async () => (await chainSlashes()).find((x) => x.jobId === second.id && x.attempts > 0),
      120_000,
    );
    expect(failing.status).toBe("pending");
    expect(failing.error).toBeTruthy();
    expect(await bonded("cheater")).toBe(PROVIDER_STAKE);
    expect((await net.admin.health()).ok).toBe(true);
    const w = { chain: admin.wallet.chain ?? null, account: admin.wallet.account };
    await mined(admin.wallet.sendTransaction({ ...w, to: addr("gateway"), value: 10n ** 18n }));
    const slash = await until(
      "slash submitted on chain",
      async () => (await chainSlashes()).find((x) => x.jobId === second.id && x.status !== "pending"),
      120_000,
    );
    expect(slash.status).toBe("slashed");
    expect(slash.providerId).toBe(cheater.id);
    const cost = BigInt(second.cost ?? "0");
    const taken = cost + dep.params.providerPenalty;
    const refund = cost < redeemed ? cost : redeemed;
    const each = ((taken - refund) * BigInt(dep.params.verifierRewardBps)) / 10_000n / 2n;
    expect(BigInt(slash.taken ?? "")).toBe(taken);
    expect(BigInt(slash.refund ?? "")).toBe(refund);
    expect(BigInt(slash.reward ?? "")).toBe(each * 2n);
    expect(refund).toBe(cost);
    expect(await bonded("cheater")).toBe(PROVIDER_STAKE - taken);
    expect(await tokens(consumerAddress)).toBe(consumerTokens + refund);
    expect(await tokens(addr("verifier-a"))).toBe(verifierA + each);
    expect(await tokens(addr("verifier-b"))).toBe(verifierB + each);
    expect(await bonded("honest")).toBe(honestBefore);
    expect(slash.verdicts.filter((v) => !v.valid)).toHaveLength(2);
    // the first verdict against it opened a dispute before the slash: its stake is frozen (no withdrawal)
    const node0 = await admin.public.readContract({
      address: dep.registry,
      abi: ProviderRegistryAbi,
      functionName: "nodeOf",
      args: [addr("cheater")],
    });
    expect(node0.frozenUntil > 0n).toBe(true);
    expect(
      (
        await admin.public.readContract({
          address: dep.registry,
          abi: ProviderRegistryAbi,
          functionName: "nodeOf",
          args: [addr("honest")],
        })
      ).frozenUntil,
    ).toBe(0n);

    // the gateway shows it: excluded, the contract's amount slashed, registry stake lowered
    const node = await until("cheater view updated", async () => {
      const n = await reads.byId(cheater.id);
      return n?.excluded && BigInt(n.stake) === PROVIDER_STAKE - taken ? n : undefined;
    });
    expect(BigInt(node.slashed)).toBe(taken);
    const page = (await (await fetch(`${net.url}/v1/explorer/providers/${cheater.id}`)).json()) as {
      stake: string;
      unbonding: string;
      registry: { address: string; frozenUntil: number | null };
      chainSlashes: Array<{ status: string; tx: string; taken: string }>;
    };
    expect(page.stake).toBe((PROVIDER_STAKE - taken).toString());
    expect(page.unbonding).toBe("0");
    expect(page.registry.address).toBe(addr("cheater"));
    expect(page.registry.frozenUntil).toBe(Number(node0.frozenUntil) * 1000);
    const burned = taken - refund - each * 2n;
    expect(page.chainSlashes).toMatchObject([
      {
        status: "slashed",
        tx: slash.tx,
        taken: taken.toString(),
        refund: refund.toString(),
        reward: (each * 2n).toString(),
        burned: burned.toString(),
      },
    ]);
    // the explorer's list has the lowered stake too (cost + providerPenalty took it below the verifiers')
    // and sorts by it
    const listed = await until("explorer list shows the slash", async () => {
      const r = await explorerByStake();
      return r.find((x) => x.id === cheater.id)?.stake === (PROVIDER_STAKE - taken).toString() ? r : undefined;
    });
    const stakes = listed.map((r) => BigInt(r.stake));
    expect(stakes).toEqual([...stakes].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    expect(listed.at(-1)?.id).toBe(cheater.id);
    // the dashboard's provider page draws the on-chain slash: its transaction and the contract's split
    ensureDashboardBuilt();
    const browser = await launchBrowser();
    try {
      const tab = await browser.context.newPage();
      await tab.goto(`${net.url}/providers/${cheater.id}`);
      const row = tab.locator('[data-testid="chain-slash"]');
      await row.first().waitFor();
      expect(await row.count()).toBe(1);
      expect(await row.getAttribute("data-status")).toBe("slashed");
      expect(await tab.locator('[data-testid="chain-slash-tx"]').textContent()).toBe(slash.tx);
      for (const [id, amount] of [
        ["chain-slash-amount", taken],
        ["chain-slash-refund", refund],
        ["chain-slash-reward", each * 2n],
        ["chain-slash-burn", burned],
      ] as const)
        expect(await tab.locator(`[data-testid="${id}"]`).getAttribute("data-amount")).toBe(amount.toString());
      expect(await tab.locator('[data-testid="slashed-total"]').getAttribute("data-amount")).toBe(taken.toString());
      expect(await tab.locator('[data-testid="stake"]').getAttribute("data-amount")).toBe(
        (PROVIDER_STAKE - taken).toString(),
      );
    } finally {
      await browser.close();
    }
    // the ledger mirrors the refund into the consumer's custodial wallet, invariants intact
    const ledger = await net.admin.ledger();
    expect(ledger.ok).toBe(true);
    expect(ledger.accounts[accounts.wallet(consumerId)]).toBe(refund.toString());

    // the same evidence, sent again by anyone, is refused by the contract
    const r = slash.result;
    expect(r).not.toBeNull();
    const [a, b] = slash.verdicts.filter((v) => !v.valid);
    let reverted: string | undefined;
    try {
      await submitSlash(admin, dep.slashing, {
        result: {
          jobId: r!.jobId,
          attempt: r!.attempt,
          outputHash: r!.outputHash,
          standardUnits: r!.standardUnits,
          consumer: r!.consumerAddress,
          cost: BigInt(r!.cost),
        },
        providerSignature: r!.signature,
        verdicts: [
          { valid: false, issuedAt: a!.issuedAt, signature: a!.signature },
          { valid: false, issuedAt: b!.issuedAt, signature: b!.signature },
        ],
      });
    } catch (e) {
      reverted = decodeRevert(e)?.name;
    }
    expect(reverted).toBe("EvidenceUsed");
    expect(await bonded("cheater")).toBe(PROVIDER_STAKE - taken);
  }, 180_000);
  it("unbonds and withdraws registry stake with the CLI, refusing a withdrawal before the delay", async () => {
    const id = (await explorerByStake()).find((r) => r.region === "honest")?.id ?? "";
    const before = await stakeOf(admin, dep.registry, addr("honest"));
    const tokensBefore = await tokens(addr("honest"));
    // nothing unbonding yet: refused by the contract, named
    const nothing = await chainCli("withdraw-stake", "honest");
    expect(nothing.code, nothing.out).toBe(1);
    expect(nothing.refusal).toMatch(/^NothingUnbonding/);
    // a key file that is not there is not made up on the spot
    const noKey = await chainCli("withdraw-stake", "nobody");
    expect(noKey.code, noKey.out).toBe(1);
    expect(noKey.refusal).toMatch(/^--eth-key: no key file at /);
    expect(existsSync(keys("nobody"))).toBe(false);
    // registering below the registry's minimum: the contract's reason, in words
    const low = await chainCli("stake", "newcomer", ["--amount", "1", "--faucet"]);
    expect(low.code, low.out).toBe(1);
    expect(low.refusal).toMatch(/^StakeTooLow: registering needs at least \d+ bonded, this would bond 1$/);
    // more than is bonded: refused, nothing moves
    const tooMuch = await chainCli("unbond", "honest", ["--amount", (before.bonded + 1n).toString()]);
    expect(tooMuch.code, tooMuch.out).toBe(1);
    expect(tooMuch.refusal).toMatch(/^InsufficientBond/);
    expect(await stakeOf(admin, dep.registry, addr("honest"))).toEqual(before);

    const amount = 50_000_000_000n;
    const unbond = await chainCli("unbond", "honest", ["--amount", amount.toString()]);
    expect(unbond.code, unbond.out).toBe(0);
    expect(unbond.json).toMatchObject({ bonded: (before.bonded - amount).toString(), unbonding: amount.toString() });
    const readyAt = Date.parse(unbond.json.readyAt ?? "");
    // the explorer shows bonded and unbonding from the registry, and when it may be withdrawn
    await until("explorer shows the unbonding", async () => {
      const r = (await explorerByStake()).find((x) => x.id === id);
      return r?.unbonding === amount.toString() && r.stake === (before.bonded - amount).toString() ? r : undefined;
    });
    const page = (await (await fetch(`${net.url}/v1/explorer/providers/${id}`)).json()) as {
      unbonding: string;
      registry: { unbondReadyAt: number };
    };
    expect(page.unbonding).toBe(amount.toString());
    expect(page.registry.unbondReadyAt).toBe(readyAt);

    // before the registry's unbondDelay: refused with the time it may be withdrawn, nothing paid
    const early = await chainCli("withdraw-stake", "honest");
    expect(early.code, early.out).toBe(1);
    expect(early.refusal).toBe(
      `UnbondingNotReady: the unbonding delay has not passed; withdraw after ${new Date(readyAt).toISOString()}`,
    );
    expect(await tokens(addr("honest"))).toBe(tokensBefore);
    expect((await stakeOf(admin, dep.registry, addr("honest"))).unbonding).toBe(amount);

    // once the devnet's clock passes the delay, the whole unbonding amount comes back to the node
    expect((await rpcCall("evm_increaseTime", [dep.params.unbondDelay + 1])).error).toBeUndefined();
    expect((await rpcCall("evm_mine", [])).error).toBeUndefined();
    const done = await chainCli("withdraw-stake", "honest");
    expect(done.code, done.out).toBe(0);
    expect(done.json).toMatchObject({ withdrawn: amount.toString(), bonded: (before.bonded - amount).toString() });
    expect(await tokens(addr("honest"))).toBe(tokensBefore + amount);
    const after = await stakeOf(admin, dep.registry, addr("honest"));
    expect([after.bonded, after.unbonding]).toEqual([before.bonded - amount, 0n]);
    await until("explorer shows the withdrawal", async () => {
      const r = (await explorerByStake()).find((x) => x.id === id);
      return r?.unbonding === "0" ? r : undefined;
    });
    // and a second withdrawal has nothing left to take
    expect((await chainCli("withdraw-stake", "honest")).refusal).toMatch(/^NothingUnbonding/);
  }, 120_000);
});
