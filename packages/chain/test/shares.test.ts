import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectRevert, type Fixture, setup } from "./fixture.js";

describe("NodeShares", () => {
  let f: Fixture;
  let id: bigint;
  beforeAll(async () => {
    f = await setup();
    id = await f.c.outsider.shares.read.idOf([f.acc.provider.address]);
    await f.snapshot();
  });
  beforeEach(async () => f.restore());

  const claimable = (holder: `0x${string}`) => f.c.outsider.shares.read.claimable([f.acc.provider.address, holder]);
  const give = (to: `0x${string}`, n: bigint) =>
    f.wait(f.c.provider.shares.write.safeTransferFrom([f.acc.provider.address, to, id, n, "0x"]));

  it("issues a fixed supply once, to the provider", async () => {
    await expectRevert(f.c.provider.shares.simulate.issue([0n]), "ZeroAmount");
    expect(await f.c.outsider.shares.read.issued([f.acc.provider.address])).toBe(false);
    await f.wait(f.c.provider.shares.write.issue([1_000n]));
    expect(await f.c.outsider.shares.read.issued([f.acc.provider.address])).toBe(true);
    expect(await f.c.outsider.shares.read.balanceOf([f.acc.provider.address, id])).toBe(1_000n);
    expect(await f.c.outsider.shares.read.totalShares([id])).toBe(1_000n);
    await expectRevert(f.c.provider.shares.simulate.issue([5n]), "AlreadyIssued");
  });

  it("refuses revenue for a provider without shares, and empty revenue", async () => {
    await expectRevert(f.c.outsider.shares.simulate.distribute([f.acc.provider.address, 10n]), "NotIssued");
    await f.wait(f.c.provider.shares.write.issue([10n]));
    await expectRevert(f.c.outsider.shares.simulate.distribute([f.acc.provider.address, 0n]), "ZeroAmount");
  });

  it("splits revenue pro rata and keeps what a holder earned before a transfer", async () => {
    await f.wait(f.c.provider.shares.write.issue([100n]));
    await give(f.acc.holder1.address, 60n);
    await f.wait(f.c.outsider.shares.write.distribute([f.acc.provider.address, 1_000n]));
    expect(await claimable(f.acc.holder1.address)).toBe(600n);
    expect(await claimable(f.acc.provider.address)).toBe(400n);
    // holder1 sells half to holder2: revenue so far stays with holder1, new revenue follows the shares
    await f.wait(
      f.c.holder1.shares.write.safeTransferFrom([f.acc.holder1.address, f.acc.holder2.address, id, 30n, "0x"]),
    );
    await f.wait(f.c.outsider.shares.write.distribute([f.acc.provider.address, 500n]));
    expect(await claimable(f.acc.holder1.address)).toBe(750n);
    expect(await claimable(f.acc.holder2.address)).toBe(150n);
    expect(await claimable(f.acc.provider.address)).toBe(600n);

    const before = await f.balance(f.acc.holder1.address);
    await f.wait(f.c.holder1.shares.write.claim([f.acc.provider.address]));
    expect(await f.balance(f.acc.holder1.address)).toBe(before + 750n);
    expect(await claimable(f.acc.holder1.address)).toBe(0n);
    // claiming again pays nothing
    await f.wait(f.c.holder1.shares.write.claim([f.acc.provider.address]));
    expect(await f.balance(f.acc.holder1.address)).toBe(before + 750n);
  });

  it("never pays out more than it received when revenue does not divide evenly", async () => {
    await f.wait(f.c.provider.shares.write.issue([3n]));
    await give(f.acc.holder1.address, 1n);
    await give(f.acc.holder2.address, 1n);
    for (let i = 0; i < 3; i++) await f.wait(f.c.outsider.shares.write.distribute([f.acc.provider.address, 1n]));
    const total =
      (await claimable(f.acc.holder1.address)) +
      (await claimable(f.acc.holder2.address)) +
      (await claimable(f.acc.provider.address));
    // 3 units over 3 equal holders: the carried remainder makes it exact
    expect(total).toBe(3n);
    expect(await f.balance(f.dep.shares)).toBe(3n);
  });
});
