import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { increaseTime } from "../src/devnet/hardhat.js";
import { signVoucher } from "../src/eip712/sign.js";
import { accountFor, expectRevert, type Fixture, setup } from "./fixture.js";

describe("Escrow", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
    await f.snapshot();
  });
  beforeEach(async () => f.restore());

  const voucher = (cumulative: bigint, signer = f.acc.consumer, consumer = f.acc.consumer.address) => {
    const v = { consumer, provider: f.acc.provider.address, cumulative };
    return signVoucher(signer, f.chainId, f.dep.escrow, v).then((sig) => ({ v, sig }));
  };

  it("takes deposits and deposits on behalf of another account", async () => {
    await f.wait(f.c.consumer.escrow.write.deposit([1_000n]));
    await f.wait(f.c.outsider.escrow.write.depositFor([f.acc.consumer.address, 500n]));
    expect(await f.c.outsider.escrow.read.balanceOf([f.acc.consumer.address])).toBe(1_500n);
    expect(await f.c.outsider.escrow.read.totalDeposits()).toBe(1_500n);
    expect(await f.balance(f.dep.escrow)).toBe(1_500n);
    await expectRevert(f.c.consumer.escrow.simulate.deposit([0n]), "ZeroAmount");
  });

  it("redeems a cumulative voucher once for many jobs, paying the fee and the provider", async () => {
    await f.wait(f.c.consumer.escrow.write.deposit([10_000n]));
    // 50 jobs of 37 each, one signature over the running total, one redemption
    const { v, sig } = await voucher(50n * 37n);
    const before = await f.balance(f.acc.provider.address);
    const feesBefore = await f.balance(f.acc.deployer.address);
    await f.wait(f.c.provider.escrow.write.redeem([v, sig]));
    const fee = (1_850n * 500n) / 10_000n;
    expect(await f.balance(f.acc.provider.address)).toBe(before + 1_850n - fee);
    expect(await f.balance(f.acc.deployer.address)).toBe(feesBefore + fee);
    expect(await f.c.outsider.escrow.read.balanceOf([f.acc.consumer.address])).toBe(10_000n - 1_850n);
    expect(await f.c.outsider.escrow.read.redeemed([f.acc.consumer.address, f.acc.provider.address])).toBe(1_850n);
    // a later voucher pays only the difference
    const next = await voucher(2_000n);
    await f.wait(f.c.provider.escrow.write.redeem([next.v, next.sig]));
    expect(await f.c.outsider.escrow.read.balanceOf([f.acc.consumer.address])).toBe(8_000n);
  });

  it("refuses replayed, stale, wrong-signer, over-deposit and third-party redemptions", async () => {
    await f.wait(f.c.consumer.escrow.write.deposit([1_000n]));
    const a = await voucher(600n);
    await f.wait(f.c.provider.escrow.write.redeem([a.v, a.sig]));
    await expectRevert(f.c.provider.escrow.simulate.redeem([a.v, a.sig]), "StaleVoucher");
    const older = await voucher(500n);
    await expectRevert(f.c.provider.escrow.simulate.redeem([older.v, older.sig]), "StaleVoucher");
    const forged = await voucher(900n, accountFor("outsider"));
    await expectRevert(f.c.provider.escrow.simulate.redeem([forged.v, forged.sig]), "WrongSigner");
    // a signature over another amount does not carry over to a tampered voucher
    await expectRevert(f.c.provider.escrow.simulate.redeem([{ ...a.v, cumulative: 700n }, a.sig]), "WrongSigner");
    const tooMuch = await voucher(1_601n);
    await expectRevert(f.c.provider.escrow.simulate.redeem([tooMuch.v, tooMuch.sig]), "InsufficientDeposit");
    const fine = await voucher(1_000n);
    await expectRevert(f.c.outsider.escrow.simulate.redeem([fine.v, fine.sig]), "NotVoucherProvider");
    await f.wait(f.c.provider.escrow.write.redeem([fine.v, fine.sig]));
    expect(await f.c.outsider.escrow.read.balanceOf([f.acc.consumer.address])).toBe(0n);
  });

  it("binds vouchers to this escrow: a signature for another contract fails", async () => {
    await f.wait(f.c.consumer.escrow.write.deposit([1_000n]));
    const v = { consumer: f.acc.consumer.address, provider: f.acc.provider.address, cumulative: 10n };
    const sig = await signVoucher(f.acc.consumer, f.chainId, f.dep.registry, v);
    await expectRevert(f.c.provider.escrow.simulate.redeem([v, sig]), "WrongSigner");
    const otherChain = await signVoucher(f.acc.consumer, 1, f.dep.escrow, v);
    await expectRevert(f.c.provider.escrow.simulate.redeem([v, otherChain]), "WrongSigner");
  });

  it("delays withdrawals so that providers can redeem first", async () => {
    await f.wait(f.c.consumer.escrow.write.deposit([1_000n]));
    await expectRevert(f.c.consumer.escrow.simulate.withdraw(), "NoWithdrawal");
    await expectRevert(f.c.consumer.escrow.simulate.requestWithdrawal([0n]), "ZeroAmount");
    await f.wait(f.c.consumer.escrow.write.requestWithdrawal([1_000n]));
    await expectRevert(f.c.consumer.escrow.simulate.withdraw(), "WithdrawalNotReady");
    // the provider sees the request and redeems during the delay
    const { v, sig } = await voucher(300n);
    await f.wait(f.c.provider.escrow.write.redeem([v, sig]));
    await increaseTime(f.provider, 101);
    const before = await f.balance(f.acc.consumer.address);
    await f.wait(f.c.consumer.escrow.write.withdraw());
    // asked for 1000, 700 was left after the redemption
    expect(await f.balance(f.acc.consumer.address)).toBe(before + 700n);
    expect(await f.c.outsider.escrow.read.balanceOf([f.acc.consumer.address])).toBe(0n);
    expect(await f.c.outsider.escrow.read.totalDeposits()).toBe(0n);
    await expectRevert(f.c.consumer.escrow.simulate.withdraw(), "NoWithdrawal");
  });

  it("pays a provider's revenue to its share holders once it has issued shares", async () => {
    await f.wait(f.c.consumer.escrow.write.deposit([10_000n]));
    await f.wait(f.c.provider.shares.write.issue([100n]));
    const id = await f.c.outsider.shares.read.idOf([f.acc.provider.address]);
    await f.wait(
      f.c.provider.shares.write.safeTransferFrom([f.acc.provider.address, f.acc.holder1.address, id, 25n, "0x"]),
    );
    const { v, sig } = await voucher(2_000n);
    const before = await f.balance(f.acc.provider.address);
    await f.wait(f.c.provider.escrow.write.redeem([v, sig]));
    expect(await f.balance(f.acc.provider.address)).toBe(before); // went to the holders
    expect(await f.c.outsider.shares.read.claimable([f.acc.provider.address, f.acc.holder1.address])).toBe(475n);
    expect(await f.c.outsider.shares.read.claimable([f.acc.provider.address, f.acc.provider.address])).toBe(1_425n);
  });
});
