import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bondStake,
  clientsFor,
  DEVNET_DEPLOYER_KEY,
  type Devnet,
  type NodeStake,
  stakeOf,
  startDevnet,
  TestTokenAbi,
  unbondStake,
} from "@tessera/chain";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryStakes, stakeIn } from "./registry-stakes.js";

describe("ProviderRegistry stake read through the cache (devnet over JSON-RPC)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-stakes-"));
  let devnet: Devnet;
  let admin: Awaited<ReturnType<typeof clientsFor>>;
  const nodeKey = generatePrivateKey();
  const node = privateKeyToAccount(nodeKey).address;
  const stranger = privateKeyToAccount(generatePrivateKey()).address;

  beforeAll(async () => {
    devnet = await startDevnet({ port: 0, out: join(dir, "deployment.json") });
    admin = await clientsFor(devnet.url, DEVNET_DEPLOYER_KEY);
    const w = { chain: admin.wallet.chain ?? null, account: admin.wallet.account };
    const mined = async (h: Promise<`0x${string}`>) => admin.public.waitForTransactionReceipt({ hash: await h });
    await mined(
      admin.wallet.writeContract({
        ...w,
        address: devnet.deployment.token,
        abi: TestTokenAbi,
        functionName: "mint",
        args: [node, devnet.deployment.params.minStake * 2n],
      }),
    );
    await mined(admin.wallet.sendTransaction({ ...w, to: node, value: 10n ** 18n }));
    await bondStake(await clientsFor(devnet.url, nodeKey), devnet.deployment, devnet.deployment.params.minStake * 2n);
  }, 120_000);
  afterAll(async () => {
    await devnet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves a page of addresses from one read each per ttl, at most `concurrency` at once", async () => {
    let reads = 0;
    let inFlight = 0;
    let most = 0;
    let now = 1_000;
    const stakes = new RegistryStakes({
      read: async (a) => {
        reads++;
        most = Math.max(most, ++inFlight);
        try {
          return await stakeOf(admin, devnet.deployment.registry, a);
        } finally {
          inFlight--;
        }
      },
      ttlMs: 2_000,
      concurrency: 2,
      now: () => now,
    });
    const strangers = Array.from({ length: 6 }, () => privateKeyToAccount(generatePrivateKey()).address);
    const page = [node, ...strangers, node.toLowerCase(), undefined];
    const first = await stakes.many(page);
    expect(reads).toBe(7);
    expect(most).toBe(2);
    expect(stakeIn(first, node.toLowerCase())).toMatchObject({
      registered: true,
      bonded: devnet.deployment.params.minStake * 2n,
      unbonding: 0n,
    });
    expect(stakeIn(first, stranger).bonded).toBe(0n);
    expect(stakeIn(first, undefined).bonded).toBe(0n);

    // the same page again within the ttl: no read at all
    await Promise.all([stakes.many(page), stakes.many(page), stakes.many(page)]);
    expect(reads).toBe(7);

    // the node unbonds; fresh() (the scheduler's refresh) reads it at once and the cache has it
    const half = devnet.deployment.params.minStake;
    await unbondStake(await clientsFor(devnet.url, nodeKey), devnet.deployment, half);
    expect(stakeIn(await stakes.many([node]), node).unbonding).toBe(0n);
    const fresh: NodeStake = await stakes.fresh(node);
    expect([fresh.bonded, fresh.unbonding]).toEqual([half, half]);
    expect(fresh.unbondReadyAt).toBeGreaterThan(0);
    expect(stakeIn(await stakes.many([node]), node).unbonding).toBe(half);

    // past the ttl every address is read again, once
    now += 2_001;
    const before = reads;
    await stakes.many(page);
    expect(reads).toBe(before + 7);
  }, 60_000);

  it("answers the last known stake when a read fails, rather than failing the page", async () => {
    let fail = false;
    let now = 0;
    const stakes = new RegistryStakes({
      read: (a) => (fail ? Promise.reject(new Error("rpc down")) : stakeOf(admin, devnet.deployment.registry, a)),
      ttlMs: 10,
      now: () => now,
    });
    const known = await stakes.many([node, stranger]);
    fail = true;
    now += 100;
    const again = await stakes.many([node, stranger]);
    expect(stakeIn(again, node)).toEqual(stakeIn(known, node));
    expect(stakeIn(again, stranger).bonded).toBe(0n);
  }, 60_000);
});

describe("RegistryStakes under --chain-confirmations", () => {
  const stake = (bonded: bigint): NodeStake => ({
    registered: true,
    bonded,
    unbonding: 0n,
    unbondReadyAt: 0,
    frozenUntil: 0,
  });
  const page = Array.from({ length: 5 }, () => privateKeyToAccount(generatePrivateKey()).address);

  it("reads a page at head − n, asking for the head once for reads that start together", async () => {
    let heads = 0;
    const at: unknown[] = [];
    const stakes = new RegistryStakes({
      read: async (_a, block) => {
        at.push(block);
        return stake(7n);
      },
      head: async () => {
        heads++;
        await new Promise((r) => setTimeout(r, 5));
        return 100n;
      },
      confirmations: 3,
      ttlMs: 0,
    });
    const got = await stakes.many(page);
    expect(heads).toBe(1);
    expect(at).toEqual(page.map(() => 97n));
    expect(stakeIn(got, page[0]).bonded).toBe(7n);
    // the next read asks for the head again
    await stakes.fresh(page[0]);
    expect(heads).toBe(2);
  });

  it("reads at `latest` without asking for the head when no confirmations are asked for", async () => {
    const at: unknown[] = [];
    const stakes = new RegistryStakes({
      read: async (_a, block) => {
        at.push(block);
        return stake(1n);
      },
      head: () => Promise.reject(new Error("not asked")),
      ttlMs: 0,
    });
    await stakes.many(page);
    expect(at).toEqual(page.map(() => "latest"));
  });

  it("answers the last known stake when the head cannot be read, and none while nothing is that deep", async () => {
    let head: bigint | undefined = 10n;
    let clock = 0;
    const stakes = new RegistryStakes({
      read: async () => stake(5n),
      head: async () => {
        if (head === undefined) throw new Error("rpc down");
        return head;
      },
      confirmations: 11,
      ttlMs: 0,
      now: () => clock++,
    });
    expect(stakeIn(await stakes.many(page), page[0])).toMatchObject({ registered: false, bonded: 0n });
    head = 11n;
    expect(stakeIn(await stakes.many(page), page[0]).bonded).toBe(5n);
    head = undefined;
    expect(stakeIn(await stakes.many(page), page[0]).bonded).toBe(5n);
    await expect(stakes.fresh(page[0])).rejects.toThrow("rpc down");
  });
});
