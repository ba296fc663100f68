// Amounts near 2^256 (a token with 18 decimals and a large supply): the fee, the verifiers' reward,
// the slash and the shares' accumulator are each the exact floor of the rational result, computed
// here with bigints. For every amount whose product fitted in 256 bits that is the very integer
// `a * b / c` gave before (checked arithmetic is exact or reverts), so these also pin that nothing
// changed below the old overflow; above it the contracts used to revert with Panic(0x11).
import { type Hex, keccak256, parseEventLogs, toHex } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeployParams } from "../src/deploy/deploy.js";
import { resultStructHash, signResult, signVerdict, signVoucher } from "../src/eip712/sign.js";
import type { ChainResult } from "../src/eip712/types.js";
import { EscrowAbi, NodeSharesAbi, SlashingAbi } from "../src/generated/index.js";
import { type Fixture, setup, TEST_PARAMS } from "./fixture.js";

const MAX = 2n ** 256n - 1n;
const MAG = 2n ** 128n;
const meta = { region: "eu-west", pricePerUnit: 40n, endpointKey: `0x${"00".repeat(32)}` as const };
const BURN = "0x000000000000000000000000000000000000dEaD";
const min = (...xs: bigint[]) => xs.reduce((a, b) => (b < a ? b : a));
const bps = (amount: bigint, b: number) => (amount * BigInt(b)) / 10_000n;
/** What `f` answers, or the revert's reason: a sample's results compare in one diff that names each failure. */
const outcome = <T>(f: () => Promise<T>): Promise<T | string> =>
  f().catch((e: { details?: string; message?: string }) => `reverted: ${e.details ?? e.message}`);

/** Amounts around the edges of `x * b / 10_000`: small remainders, the last that fitted, the first that did not. */
function edges(b: number, cap: bigint): bigint[] {
  const last = MAX / BigInt(b); // the largest x with x * b < 2^256
  const xs = [1n, 19n, 20n, 21n, 9_999n, 10_000n, 10_001n, 19_999n, 20_000n, 123_456_789n, 10n ** 30n + 7n];
  xs.push(2n ** 128n, 2n ** 200n - 1n, last - 10_000n, last - 1n, last, last + 1n, last + 9_999n, 2n ** 255n, cap);
  return [...new Set(xs.filter((x) => x > 0n && x <= cap))].sort((a, c) => (a < c ? -1 : 1));
}

const SUITES: { name: string; params: DeployParams }[] = [
  { name: "fee 5 %, verifiers 50 %", params: TEST_PARAMS },
  { name: "fee 100 %, verifiers 0.01 %", params: { ...TEST_PARAMS, feeBps: 10_000, verifierRewardBps: 1 } },
  { name: "fee 0.01 %, verifiers 100 %", params: { ...TEST_PARAMS, feeBps: 1, verifierRewardBps: 10_000 } },
];

describe.each(SUITES)("amounts up to 2^256 ($name)", ({ params }) => {
  let f: Fixture;
  let supply0: bigint;
  beforeAll(async () => {
    f = await setup(params);
    supply0 = await f.c.outsider.token.read.totalSupply();
    await f.snapshot();
  }, 60_000);
  beforeEach(async () => f.restore());

  /** Mints `amount` to `who` and lets escrow, registry and shares pull all of it. */
  const fund = async (who: "consumer" | "provider" | "outsider", amount: bigint) => {
    await f.wait(f.c.deployer.token.write.mint([f.acc[who].address, amount]));
    for (const spender of [f.dep.escrow, f.dep.registry, f.dep.shares])
      await f.wait(f.c[who].token.write.approve([spender, MAX]));
  };
  /** The consumer deposits `amount` and the provider redeems a voucher for all of it; the Redeemed log. */
  const depositAndRedeem = async (amount: bigint) => {
    await fund("consumer", amount);
    await f.wait(f.c.consumer.escrow.write.deposit([amount]));
    const v = { consumer: f.acc.consumer.address, provider: f.acc.provider.address, cumulative: amount };
    const sig = await signVoucher(f.acc.consumer, f.chainId, f.dep.escrow, v);
    const r = await f.wait(f.c.provider.escrow.write.redeem([v, sig]));
    const [log] = parseEventLogs({ abi: EscrowAbi, logs: r.logs, eventName: "Redeemed" });
    return log?.args;
  };

  describe("Escrow fee", () => {
    // the most that can still be minted on top of the fixture's supply
    const amounts = () => edges(params.feeBps, MAX - supply0);
    it("is floor(owed × feeBps / 10 000) for every owed, whether or not the product fits in 256 bits", async () => {
      const xs = amounts();
      // the sample reaches past the old overflow wherever there was one (none at 1 bps)
      expect(xs.some((x) => x * BigInt(params.feeBps) > MAX)).toBe(params.feeBps > 1);
      const got: unknown[] = [];
      for (const owed of xs) {
        await f.restore();
        got.push(
          await outcome(async () => {
            const provider = await f.balance(f.acc.provider.address);
            const fees = await f.balance(f.acc.deployer.address);
            const log = await depositAndRedeem(owed);
            return {
              owed,
              fee: log?.fee,
              paid: log?.paid,
              toProvider: (await f.balance(f.acc.provider.address)) - provider,
              toFees: (await f.balance(f.acc.deployer.address)) - fees,
              left: await f.balance(f.dep.escrow),
            };
          }),
        );
      }
      const want = xs.map((owed) => {
        const fee = bps(owed, params.feeBps);
        return { owed, fee, paid: owed - fee, toProvider: owed - fee, toFees: fee, left: 0n };
      });
      expect(got).toEqual(want);
    });
  });

  describe("Slashing", () => {
    const P = TEST_PARAMS.providerPenalty;
    beforeEach(async () => {
      for (const n of ["verifierA", "verifierB"] as const) await f.wait(f.c[n].registry.write.register([2_000n, meta]));
    });

    /** Stakes `stake` for the provider, has it sign a result of `cost` and two verifiers reject it; slashes. */
    const slash = async (stake: bigint, cost: bigint) => {
      await fund("provider", stake);
      await f.wait(f.c.provider.registry.write.register([stake, meta]));
      const now = (await f.pub.getBlock()).timestamp;
      const r: ChainResult = {
        jobId: keccak256(toHex(`job-${stake}-${cost}`)),
        attempt: 1,
        outputHash: keccak256(toHex("claimed output")),
        units: 1n,
        consumer: f.acc.consumer.address,
        cost,
      };
      const pSig = await signResult(f.acc.provider, f.chainId, f.dep.slashing, r);
      const verdicts = [
        { result: resultStructHash(r), valid: false, issuedAt: now },
        { result: resultStructHash(r), valid: false, issuedAt: now },
      ] as const;
      const sigs = [
        await signVerdict(f.acc.verifierA, f.chainId, f.dep.slashing, verdicts[0]),
        await signVerdict(f.acc.verifierB, f.chainId, f.dep.slashing, verdicts[1]),
      ] as const;
      const before = await Promise.all([
        f.balance(f.acc.consumer.address),
        f.balance(f.acc.verifierA.address),
        f.balance(f.acc.verifierB.address),
        f.balance(BURN),
      ]);
      const receipt = await f.wait(f.c.outsider.slashing.write.slashProvider([r, pSig, verdicts, sigs as [Hex, Hex]]));
      const [log] = parseEventLogs({ abi: SlashingAbi, logs: receipt.logs, eventName: "ProviderSlashed" });
      const after = await Promise.all([
        f.balance(f.acc.consumer.address),
        f.balance(f.acc.verifierA.address),
        f.balance(f.acc.verifierB.address),
        f.balance(BURN),
      ]);
      const n = await f.c.outsider.registry.read.nodeOf([f.acc.provider.address]);
      return {
        taken: log?.args.amount,
        refund: log?.args.refund,
        reward: log?.args.reward,
        gained: after.map((a, i) => a - (before[i] as bigint)),
        left: n.bonded + n.unbonding,
      };
    };
    /** What the contract should do: the exact rational results, floored. */
    const expected = (stake: bigint, cost: bigint, refundable: bigint) => {
      const taken = min(cost + P, stake);
      const refund = min(cost, taken, refundable);
      const each = bps(taken - refund, params.verifierRewardBps) / 2n;
      return {
        taken,
        refund,
        reward: each * 2n,
        gained: [refund, each, each, taken - refund - each * 2n],
        left: stake - taken,
      };
    };

    it("takes min(cost + penalty, stake) and rewards floor(rest × bps / 10 000) / 2 each, at any size", async () => {
      const b = BigInt(params.verifierRewardBps);
      const last = MAX / b; // the largest taken − refund whose product with the reward bps fits
      const room = MAX - supply0; // the most that can still be minted
      const cases: [stake: bigint, cost: bigint][] = [
        [2_000n, 300n],
        [10n ** 6n, 10n ** 6n - P - 1n],
        [10n ** 6n, 10n ** 6n - P],
        [10n ** 30n, 10n ** 29n],
        [last, last],
        [last, last + 1n],
        [last + 1n, last + 1n],
        [2n ** 255n, 2n ** 255n],
        [room, room - P],
        // cost + penalty past 2^256: the stake is all there is to take
        [10n ** 6n, MAX - P],
        [10n ** 6n, MAX - P + 1n],
        [2n ** 250n, MAX],
        [room, MAX],
      ];
      expect(cases.some(([s, c]) => min(c + P, s) * b > MAX || c + P > MAX)).toBe(true);
      const sample = cases.filter(([stake]) => stake <= room);
      const got: unknown[] = [];
      for (const [stake, cost] of sample) {
        await f.restore();
        for (const n of ["verifierA", "verifierB"] as const)
          await f.wait(f.c[n].registry.write.register([2_000n, meta]));
        got.push(await outcome(async () => ({ stake, cost, ...(await slash(stake, cost)) })));
      }
      expect(got).toEqual(sample.map(([stake, cost]) => ({ stake, cost, ...expected(stake, cost, 0n) })));
    });

    it("refunds up to what the consumer paid through the escrow, when that payment was past the old overflow", async () => {
      const paid = 2n ** 250n;
      await depositAndRedeem(paid);
      const [stake, cost] = [2n ** 252n, 2n ** 251n];
      expect(await slash(stake, cost)).toEqual(expected(stake, cost, paid));
    });
  });

  describe("NodeShares", () => {
    /** The accumulator with unbounded integers: floor((amount·2^128 + carry) / supply), the rest carried. */
    const model = (supply: bigint) => {
      let acc = 0n;
      let carry = 0n;
      return {
        distribute(amount: bigint) {
          const scaled = amount * MAG + carry;
          acc += scaled / supply;
          carry = scaled % supply;
          return acc;
        },
        claimable: (balance: bigint) => (balance * acc) / MAG,
      };
    };
    const id = () => f.c.outsider.shares.read.idOf([f.acc.provider.address]);
    const claimable = (who: "provider" | "holder1") =>
      f.c.outsider.shares.read.claimable([f.acc.provider.address, f.acc[who].address]);
    /** `from` transfers `n` of the provider's shares to `to`. */
    const give = async (from: "provider" | "holder1", to: "provider" | "holder1", n: bigint) =>
      f.wait(f.c[from].shares.write.safeTransferFrom([f.acc[from].address, f.acc[to].address, await id(), n, "0x"]));

    it("splits any revenue exactly as the unbounded accumulator would, and pays it out", async () => {
      const supply = 10n ** 24n;
      const held = 6n * 10n ** 23n;
      await f.wait(f.c.provider.shares.write.issue([supply]));
      await give("provider", "holder1", held);
      const m = model(supply);
      let total = 0n;
      for (const amount of [7n, MAG - 1n, MAG, 2n ** 200n, 12_345n, 2n ** 206n]) {
        await fund("outsider", amount);
        const r = await f.wait(f.c.outsider.shares.write.distribute([f.acc.provider.address, amount]));
        expect(parseEventLogs({ abi: NodeSharesAbi, logs: r.logs, eventName: "RevenueDistributed" })).toHaveLength(1);
        total += amount;
        expect(await f.c.outsider.shares.read.accPerShare([await id()])).toBe(m.distribute(amount));
        expect(await claimable("holder1")).toBe(m.claimable(held));
        expect(await claimable("provider")).toBe(m.claimable(supply - held));
      }
      // a transfer settles both sides first; claims pay what was claimable, never more than came in
      await give("holder1", "provider", 1n);
      expect(await claimable("holder1")).toBe(m.claimable(held));
      const before = await f.balance(f.acc.holder1.address);
      await f.wait(f.c.holder1.shares.write.claim([f.acc.provider.address]));
      await f.wait(f.c.provider.shares.write.claim([f.acc.provider.address]));
      expect(await f.balance(f.acc.holder1.address)).toBe(before + m.claimable(held));
      expect(await f.balance(f.dep.shares)).toBe(total - m.claimable(held) - m.claimable(supply - held));
      expect(await f.balance(f.dep.shares)).toBeLessThanOrEqual(2n);
    });

    it("carries a remainder past 2^128 into the next distribution (amount·2^128 + carry passed 2^256)", async () => {
      const supply = 2n ** 255n;
      await f.wait(f.c.provider.shares.write.issue([supply]));
      const m = model(supply);
      for (const amount of [3n, MAG - 1n, MAG - 1n]) {
        await fund("outsider", amount);
        await f.wait(f.c.outsider.shares.write.distribute([f.acc.provider.address, amount]));
        expect(await f.c.outsider.shares.read.accPerShare([await id()])).toBe(m.distribute(amount));
        expect(await claimable("provider")).toBe(m.claimable(supply));
      }
    });

    it("takes a redemption of a provider with shares past 2^128", async () => {
      const supply = 10n ** 24n;
      await f.wait(f.c.provider.shares.write.issue([supply]));
      const owed = 2n ** 200n;
      const log = await depositAndRedeem(owed);
      const net = owed - bps(owed, params.feeBps);
      expect(log?.paid).toBe(net);
      const m = model(supply);
      m.distribute(net);
      expect(await claimable("provider")).toBe(m.claimable(supply));
      expect(await f.balance(f.dep.shares)).toBe(net);
    });
  });
});
