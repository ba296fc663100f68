import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { increaseTime } from "../src/devnet/hardhat.js";
import { expectRevert, type Fixture, setup } from "./fixture.js";

const meta = { region: "eu-west", pricePerUnit: 40n, endpointKey: `0x${"ab".repeat(32)}` as const };

describe("ProviderRegistry", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
    await f.snapshot();
  });
  beforeEach(async () => f.restore());

  it("registers with stake and metadata, and tops up", async () => {
    const before = await f.balance(f.acc.provider.address);
    await f.wait(f.c.provider.registry.write.register([1_500n, meta]));
    const n = await f.c.outsider.registry.read.nodeOf([f.acc.provider.address]);
    expect(n.registered).toBe(true);
    expect(n.bonded).toBe(1_500n);
    expect(n.metadata.region).toBe("eu-west");
    expect(n.metadata.pricePerUnit).toBe(40n);
    expect(await f.c.outsider.registry.read.isActive([f.acc.provider.address])).toBe(true);
    await f.wait(f.c.provider.registry.write.topUp([500n]));
    expect((await f.c.outsider.registry.read.nodeOf([f.acc.provider.address])).bonded).toBe(2_000n);
    expect(await f.balance(f.acc.provider.address)).toBe(before - 2_000n);
    expect(await f.c.outsider.registry.read.totalStaked()).toBe(2_000n);
  });

  it("updates metadata only for registered nodes", async () => {
    await expectRevert(f.c.provider.registry.simulate.updateMetadata([meta]), "NotRegistered");
    await f.wait(f.c.provider.registry.write.register([1_000n, meta]));
    await f.wait(f.c.provider.registry.write.updateMetadata([{ ...meta, region: "us-east", pricePerUnit: 7n }]));
    const n = await f.c.outsider.registry.read.nodeOf([f.acc.provider.address]);
    expect(n.metadata.region).toBe("us-east");
    expect(n.metadata.pricePerUnit).toBe(7n);
  });

  it("refuses a stake below the minimum, a second registration and empty or unregistered top-ups", async () => {
    await expectRevert(f.c.provider.registry.simulate.register([999n, meta]), "StakeTooLow");
    await expectRevert(f.c.provider.registry.simulate.topUp([10n]), "NotRegistered");
    await f.wait(f.c.provider.registry.write.register([1_000n, meta]));
    await expectRevert(f.c.provider.registry.simulate.register([1_000n, meta]), "AlreadyRegistered");
    await expectRevert(f.c.provider.registry.simulate.topUp([0n]), "ZeroAmount");
  });

  it("unbonds with a waiting period and withdraws only after it", async () => {
    await f.wait(f.c.provider.registry.write.register([1_500n, meta]));
    await expectRevert(f.c.provider.registry.simulate.unbond([0n]), "ZeroAmount");
    await expectRevert(f.c.provider.registry.simulate.unbond([1_501n]), "InsufficientBond");
    await expectRevert(f.c.provider.registry.simulate.withdraw(), "NothingUnbonding");
    await f.wait(f.c.provider.registry.write.unbond([600n]));
    expect(await f.c.outsider.registry.read.isActive([f.acc.provider.address])).toBe(false);
    await expectRevert(f.c.provider.registry.simulate.withdraw(), "UnbondingNotReady");
    await increaseTime(f.provider, 1001);
    const before = await f.balance(f.acc.provider.address);
    await f.wait(f.c.provider.registry.write.withdraw());
    expect(await f.balance(f.acc.provider.address)).toBe(before + 600n);
    const n = await f.c.outsider.registry.read.nodeOf([f.acc.provider.address]);
    expect([n.bonded, n.unbonding]).toEqual([900n, 0n]);
    await expectRevert(f.c.outsider.registry.simulate.unbond([1n]), "NotRegistered");
  });

  it("lets only the slashing contract freeze or slash, and the slasher is wired once", async () => {
    await f.wait(f.c.provider.registry.write.register([1_000n, meta]));
    await expectRevert(f.c.outsider.registry.simulate.freeze([f.acc.provider.address, 10n ** 10n]), "NotSlasher");
    await expectRevert(
      f.c.deployer.registry.simulate.slash([f.acc.provider.address, 1n, [], [], f.acc.outsider.address]),
      "NotSlasher",
    );
    await expectRevert(f.c.outsider.registry.simulate.setSlasher([f.acc.outsider.address]), "NotDeployer");
    await expectRevert(f.c.deployer.registry.simulate.setSlasher([f.acc.outsider.address]), "SlasherAlreadySet");
    expect(await f.c.outsider.registry.read.slasher()).toBe(f.dep.slashing);
  });
});
