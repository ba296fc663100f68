// Random sequences of deposits, vouchers, redemptions, withdrawals, slashes, share transfers and
// claims against the real contracts; after each sequence every token is accounted for and each
// contract's internal books match both its token balance and an independent model.
import fc from "fast-check";
import { keccak256, toHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { increaseTime } from "../src/devnet/hardhat.js";
import { resultStructHash, signResult, signVerdict, signVoucher } from "../src/eip712/sign.js";
import { type Fixture, NAMES, setup } from "./fixture.js";

const meta = { region: "r", pricePerUnit: 1n, endpointKey: `0x${"00".repeat(32)}` as const };
const BURN = "0x000000000000000000000000000000000000dEaD" as const;
const consumers = ["consumer", "consumer2"] as const;
const providers = ["provider", "provider2"] as const;
const holders = ["holder1", "holder2"] as const;

const op = fc.oneof(
  fc.record({ t: fc.constant("deposit" as const), c: fc.nat(1), amt: fc.bigInt(1n, 5_000n) }),
  fc.record({ t: fc.constant("pay" as const), c: fc.nat(1), p: fc.nat(1), amt: fc.bigInt(1n, 3_000n) }),
  fc.record({ t: fc.constant("withdraw" as const), c: fc.nat(1), amt: fc.bigInt(1n, 6_000n) }),
  fc.record({ t: fc.constant("slash" as const), p: fc.nat(1), c: fc.nat(1), cost: fc.bigInt(0n, 2_000n) }),
  fc.record({ t: fc.constant("transfer" as const), p: fc.nat(1), h: fc.nat(1), amt: fc.bigInt(1n, 40n) }),
  fc.record({ t: fc.constant("claim" as const), p: fc.nat(1), h: fc.nat(2) }),
);

describe("settlement contracts conserve tokens", () => {
  let f: Fixture;
  const MINT = 1_000_000n;
  beforeAll(async () => {
    f = await setup(undefined, MINT);
    for (const n of [...providers, "verifierA", "verifierB"] as const)
      await f.wait(f.c[n].registry.write.register([3_000n, meta]));
    await f.wait(f.c.provider.shares.write.issue([100n])); // provider2 keeps its revenue unshared
    await f.snapshot();
  });

  it("under random deposits, vouchers, redemptions, withdrawals, slashes and share trades", async () => {
    let job = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        await f.restore();
        const owed = new Map<string, bigint>(); // consumer|provider -> cumulative signed
        const deposits = new Map<string, bigint>(); // model of Escrow.balanceOf
        for (const o of ops) {
          if (o.t === "deposit") {
            const c = consumers[o.c] as (typeof consumers)[number];
            await f.wait(f.c[c].escrow.write.deposit([o.amt]));
            deposits.set(c, (deposits.get(c) ?? 0n) + o.amt);
          } else if (o.t === "pay") {
            const c = consumers[o.c] as (typeof consumers)[number];
            const p = providers[o.p] as (typeof providers)[number];
            const key = `${c}|${p}`;
            const have = deposits.get(c) ?? 0n;
            const amt = o.amt > have ? have : o.amt; // the gateway never signs past the deposit
            if (amt === 0n) continue;
            const cumulative = (owed.get(key) ?? 0n) + amt;
            owed.set(key, cumulative);
            const v = { consumer: f.acc[c].address, provider: f.acc[p].address, cumulative };
            const sig = await signVoucher(f.acc[c], f.chainId, f.dep.escrow, v);
            await f.wait(f.c[p].escrow.write.redeem([v, sig]));
            deposits.set(c, have - amt);
          } else if (o.t === "withdraw") {
            const c = consumers[o.c] as (typeof consumers)[number];
            await f.wait(f.c[c].escrow.write.requestWithdrawal([o.amt]));
            await increaseTime(f.provider, 101);
            await f.wait(f.c[c].escrow.write.withdraw());
            const have = deposits.get(c) ?? 0n;
            deposits.set(c, have - (o.amt < have ? o.amt : have));
          } else if (o.t === "slash") {
            const p = providers[o.p] as (typeof providers)[number];
            const r = {
              jobId: keccak256(toHex(`job-${job++}`)),
              attempt: 1,
              outputHash: keccak256(toHex("x")),
              units: 1n,
              consumer: f.acc[consumers[o.c] as (typeof consumers)[number]].address,
              cost: o.cost,
            };
            const issuedAt = (await f.pub.getBlock()).timestamp;
            const v = { result: resultStructHash(r), valid: false, issuedAt };
            await f.wait(
              f.c.outsider.slashing.write.slashProvider([
                r,
                await signResult(f.acc[p], f.chainId, f.dep.slashing, r),
                [v, v],
                [
                  await signVerdict(f.acc.verifierA, f.chainId, f.dep.slashing, v),
                  await signVerdict(f.acc.verifierB, f.chainId, f.dep.slashing, v),
                ],
              ]),
            );
          } else if (o.t === "transfer") {
            const h = holders[o.h] as (typeof holders)[number];
            const id = await f.c.outsider.shares.read.idOf([f.acc.provider.address]);
            const bal = await f.c.outsider.shares.read.balanceOf([f.acc.provider.address, id]);
            if (bal >= o.amt)
              await f.wait(
                f.c.provider.shares.write.safeTransferFrom([f.acc.provider.address, f.acc[h].address, id, o.amt, "0x"]),
              );
          } else {
            const h = (["holder1", "holder2", "provider"] as const)[o.h] as "holder1" | "holder2" | "provider";
            await f.wait(f.c[h].shares.write.claim([f.acc.provider.address]));
          }
        }
        await checkBooks(deposits);
      }),
      { numRuns: 20, endOnFailure: true },
    );
  });

  async function checkBooks(deposits: Map<string, bigint>) {
    const read = f.c.outsider;
    // every token minted is somewhere we know of
    let total = 0n;
    for (const n of NAMES) total += await f.balance(f.acc[n].address);
    for (const a of [f.dep.escrow, f.dep.registry, f.dep.shares, BURN]) total += await f.balance(a);
    expect(total).toBe(await read.token.read.totalSupply());
    expect(total).toBe(MINT * BigInt(NAMES.length - 1));
    // escrow: books = tokens = model
    let sum = 0n;
    for (const c of consumers) {
      const b = await read.escrow.read.balanceOf([f.acc[c].address]);
      expect(b).toBe(deposits.get(c) ?? 0n);
      sum += b;
    }
    expect(await read.escrow.read.totalDeposits()).toBe(sum);
    expect(await f.balance(f.dep.escrow)).toBe(sum);
    // registry: books = tokens
    let staked = 0n;
    for (const n of [...providers, "verifierA", "verifierB"] as const) {
      const node = await read.registry.read.nodeOf([f.acc[n].address]);
      staked += node.bonded + node.unbonding;
    }
    expect(await read.registry.read.totalStaked()).toBe(staked);
    expect(await f.balance(f.dep.registry)).toBe(staked);
    // shares: holds at least what holders can claim, short of it by at most rounding dust
    let claimable = 0n;
    for (const h of [...holders, "provider"] as const)
      claimable += await read.shares.read.claimable([f.acc.provider.address, f.acc[h].address]);
    const held = await f.balance(f.dep.shares);
    expect(held >= claimable).toBe(true);
    expect(held - claimable <= 3n).toBe(true);
  }
});
