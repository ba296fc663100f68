import { encodeAbiParameters, type Hex, keccak256, type LocalAccount, toHex } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { increaseTime } from "../src/devnet/hardhat.js";
import { resultStructHash, signResult, signVerdict, signVoucher } from "../src/eip712/sign.js";
import type { ChainResult } from "../src/eip712/types.js";
import { expectRevert, type Fixture, setup } from "./fixture.js";

const meta = { region: "eu-west", pricePerUnit: 40n, endpointKey: `0x${"00".repeat(32)}` as const };
const BURN = "0x000000000000000000000000000000000000dEaD";

describe("Slashing", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
    for (const n of ["provider", "verifierA", "verifierB", "verifierC"] as const)
      await f.wait(f.c[n].registry.write.register([2_000n, meta]));
    // the consumer has paid the provider 500 through the escrow, so up to 500 is refundable
    await f.wait(f.c.consumer.escrow.write.deposit([5_000n]));
    const v = { consumer: f.acc.consumer.address, provider: f.acc.provider.address, cumulative: 500n };
    await f.wait(f.c.provider.escrow.write.redeem([v, await signVoucher(f.acc.consumer, f.chainId, f.dep.escrow, v)]));
    await f.snapshot();
  });
  beforeEach(async () => f.restore());

  const result = (over: Partial<ChainResult> = {}): ChainResult => ({
    jobId: keccak256(toHex("job-1")),
    attempt: 1,
    outputHash: keccak256(toHex("claimed output")),
    units: 1234n,
    consumer: f.acc.consumer.address,
    cost: 300n,
    ...over,
  });
  const now = async () => (await f.pub.getBlock()).timestamp;
  const verdict = async (who: LocalAccount, r: ChainResult, valid = false) => {
    const v = { result: resultStructHash(r), valid, issuedAt: await now() };
    return { v, sig: await signVerdict(who, f.chainId, f.dep.slashing, v) };
  };
  const evidence = async (r = result(), a = f.acc.verifierA, b = f.acc.verifierB) => {
    const pSig = await signResult(f.acc.provider, f.chainId, f.dep.slashing, r);
    const va = await verdict(a, r);
    const vb = await verdict(b, r);
    return { r, pSig, verdicts: [va.v, vb.v] as const, sigs: [va.sig, vb.sig] as const };
  };
  const stakeOf = async (who: `0x${string}`) => {
    const n = await f.c.outsider.registry.read.nodeOf([who]);
    return n.bonded + n.unbonding;
  };

  it("computes the same result hash as the contract", async () => {
    expect(await f.c.outsider.slashing.read.resultHash([result()])).toBe(resultStructHash(result()));
  });

  it("slashes on a signed result and two verdicts: refunds the consumer, rewards verifiers, burns the rest", async () => {
    const e = await evidence();
    const [consumer, va, vb, burned] = await Promise.all([
      f.balance(f.acc.consumer.address),
      f.balance(f.acc.verifierA.address),
      f.balance(f.acc.verifierB.address),
      f.balance(BURN),
    ]);
    // anyone may submit the evidence; the signatures are what count
    await f.wait(f.c.outsider.slashing.write.slashProvider([e.r, e.pSig, e.verdicts, e.sigs]));
    // taken = cost 300 + penalty 400 = 700; refund 300; verifiers share 50% of 400 = 100 each; 200 burned
    expect(await stakeOf(f.acc.provider.address)).toBe(2_000n - 700n);
    expect(await f.balance(f.acc.consumer.address)).toBe(consumer + 300n);
    expect(await f.balance(f.acc.verifierA.address)).toBe(va + 100n);
    expect(await f.balance(f.acc.verifierB.address)).toBe(vb + 100n);
    expect(await f.balance(BURN)).toBe(burned + 200n);
    expect(await f.c.outsider.slashing.read.resultSlashed([resultStructHash(e.r)])).toBe(true);
    // evidence is used once
    await expectRevert(f.c.outsider.slashing.simulate.slashProvider([e.r, e.pSig, e.verdicts, e.sigs]), "EvidenceUsed");
  });

  it("caps the refund at what the consumer paid this provider, so a fake result cannot move stake out", async () => {
    const e = await evidence(result({ cost: 1_000n }));
    const consumer = await f.balance(f.acc.consumer.address);
    await f.wait(f.c.outsider.slashing.write.slashProvider([e.r, e.pSig, e.verdicts, e.sigs]));
    expect(await f.balance(f.acc.consumer.address)).toBe(consumer + 500n);
    expect(await stakeOf(f.acc.provider.address)).toBe(2_000n - 1_400n);
    // a second slash for another job finds nothing left to refund
    const e2 = await evidence(result({ jobId: keccak256(toHex("job-2")) }));
    await f.wait(f.c.outsider.slashing.write.slashProvider([e2.r, e2.pSig, e2.verdicts, e2.sigs]));
    expect(await f.balance(f.acc.consumer.address)).toBe(consumer + 500n);
    expect(await stakeOf(f.acc.provider.address)).toBe(0n);
  });

  it("refuses weak or forged evidence", async () => {
    const e = await evidence();
    const s = f.c.outsider.slashing.simulate;
    // the same verifier twice
    await expectRevert(
      s.slashProvider([e.r, e.pSig, [e.verdicts[0], e.verdicts[0]], [e.sigs[0], e.sigs[0]]]),
      "SameVerifier",
    );
    // a verdict in the provider's favour
    const ok = await verdict(f.acc.verifierB, e.r, true);
    await expectRevert(s.slashProvider([e.r, e.pSig, [e.verdicts[0], ok.v], [e.sigs[0], ok.sig]]), "VerdictNotAgainst");
    // a verdict about another result
    const other = await verdict(f.acc.verifierB, result({ attempt: 2 }));
    await expectRevert(
      s.slashProvider([e.r, e.pSig, [e.verdicts[0], other.v], [e.sigs[0], other.sig]]),
      "VerdictForOtherResult",
    );
    // a "verifier" without stake
    const nobody = await verdict(f.acc.outsider, e.r);
    await expectRevert(
      s.slashProvider([e.r, e.pSig, [e.verdicts[0], nobody.v], [e.sigs[0], nobody.sig]]),
      "VerifierNotStaked",
    );
    // the provider judging itself
    const self = await verdict(f.acc.provider, e.r);
    await expectRevert(
      s.slashProvider([e.r, e.pSig, [e.verdicts[0], self.v], [e.sigs[0], self.sig]]),
      "VerifierIsProvider",
    );
    // a result the provider never signed (signed by someone unregistered)
    const fakeSig = await signResult(f.acc.outsider, f.chainId, f.dep.slashing, e.r);
    await expectRevert(s.slashProvider([e.r, fakeSig, e.verdicts, e.sigs]), "ProviderNotRegistered");
    // a tampered result recovers to some unregistered address, not the provider
    await expectRevert(s.slashProvider([{ ...e.r, cost: 1n }, e.pSig, e.verdicts, e.sigs]), "ProviderNotRegistered");
  });

  it("freezes a disputed provider so that unbonding cannot escape the slash", async () => {
    await f.wait(f.c.provider.registry.write.unbond([2_000n]));
    await increaseTime(f.provider, 990);
    const e = await evidence();
    await f.wait(f.c.outsider.slashing.write.openDispute([e.r, e.pSig, e.verdicts[0], e.sigs[0]]));
    await expectRevert(
      f.c.outsider.slashing.simulate.openDispute([e.r, e.pSig, e.verdicts[1], e.sigs[1]]),
      "EvidenceUsed",
    );
    await increaseTime(f.provider, 20); // unbonding delay over, but frozen for the dispute window
    await expectRevert(f.c.provider.registry.simulate.withdraw(), "FrozenUntil");
    // unbonding stake is still slashable
    await f.wait(f.c.outsider.slashing.write.slashProvider([e.r, e.pSig, e.verdicts, e.sigs]));
    expect(await stakeOf(f.acc.provider.address)).toBe(1_300n);
    await increaseTime(f.provider, 500);
    const before = await f.balance(f.acc.provider.address);
    await f.wait(f.c.provider.registry.write.withdraw());
    expect(await f.balance(f.acc.provider.address)).toBe(before + 1_300n);
  });

  describe("canaries", () => {
    const answer = keccak256(toHex("the right answer"));
    const salt = keccak256(toHex("salt"));
    const commitment = (r: ChainResult) =>
      keccak256(
        encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }], [r.jobId, answer, salt]),
      );
    const commit = async (r: ChainResult) => f.wait(f.c.deployer.slashing.write.commitCanary([commitment(r)]));

    it("only the canary authority commits, once per commitment", async () => {
      const r = result({ outputHash: answer });
      await expectRevert(f.c.outsider.slashing.simulate.commitCanary([commitment(r)]), "NotCanaryAuthority");
      await commit(r);
      await expectRevert(f.c.deployer.slashing.simulate.commitCanary([commitment(r)]), "CanaryAlreadyCommitted");
    });

    it("slashes a verifier that called a correct canary result wrong, and burns it all", async () => {
      const r = result({ outputHash: answer });
      await commit(r);
      const lie = await verdict(f.acc.verifierC, r, false);
      const burned = await f.balance(BURN);
      await f.wait(f.c.outsider.slashing.write.slashVerifier([r, lie.v, lie.sig, answer, salt]));
      expect(await stakeOf(f.acc.verifierC.address)).toBe(2_000n - 300n);
      expect(await f.balance(BURN)).toBe(burned + 300n);
      await expectRevert(
        f.c.outsider.slashing.simulate.slashVerifier([r, lie.v, lie.sig, answer, salt]),
        "EvidenceUsed",
      );
    });

    it("slashes each of two verifiers that signed the very same wrong verdict, each once", async () => {
      const r = result({ outputHash: keccak256(toHex("wrong")) });
      await commit(r);
      const v = { result: resultStructHash(r), valid: true, issuedAt: await now() };
      const sigA = await signVerdict(f.acc.verifierA, f.chainId, f.dep.slashing, v);
      const sigB = await signVerdict(f.acc.verifierB, f.chainId, f.dep.slashing, v);
      await f.wait(f.c.outsider.slashing.write.slashVerifier([r, v, sigA, answer, salt]));
      await f.wait(f.c.outsider.slashing.write.slashVerifier([r, v, sigB, answer, salt]));
      expect(await stakeOf(f.acc.verifierA.address)).toBe(1_700n);
      expect(await stakeOf(f.acc.verifierB.address)).toBe(1_700n);
      await expectRevert(f.c.outsider.slashing.simulate.slashVerifier([r, v, sigB, answer, salt]), "EvidenceUsed");
    });

    it("slashes a verifier that passed a wrong canary result", async () => {
      const r = result({ outputHash: keccak256(toHex("wrong")) });
      await commit(r);
      const lie = await verdict(f.acc.verifierC, r, true);
      await f.wait(f.c.outsider.slashing.write.slashVerifier([r, lie.v, lie.sig, answer, salt]));
      expect(await stakeOf(f.acc.verifierC.address)).toBe(1_700n);
    });

    it("does not slash an honest verifier, nor on an unknown canary, a later commitment or a mismatched result", async () => {
      const s = f.c.outsider.slashing.simulate;
      const r = result({ outputHash: answer });
      const early = await verdict(f.acc.verifierC, r, false); // signed before the answer was committed
      await increaseTime(f.provider, 5);
      await expectRevert(s.slashVerifier([r, early.v, early.sig, answer, salt]), "UnknownCanary");
      await commit(r);
      await expectRevert(s.slashVerifier([r, early.v, early.sig, answer, salt]), "VerdictBeforeCanary");
      const honest = await verdict(f.acc.verifierC, r, true);
      await expectRevert(s.slashVerifier([r, honest.v, honest.sig, answer, salt]), "VerdictWasRight");
      const lie = await verdict(f.acc.verifierC, r, false);
      await expectRevert(
        s.slashVerifier([result({ attempt: 9 }), lie.v, lie.sig, answer, salt]),
        "VerdictForOtherResult",
      );
      await expectRevert(
        s.slashVerifier([r, lie.v, lie.sig, answer, keccak256(toHex("other salt")) as Hex]),
        "UnknownCanary",
      );
      const unstaked = await verdict(f.acc.outsider, r, false);
      await expectRevert(s.slashVerifier([r, unstaked.v, unstaked.sig, answer, salt]), "VerifierNotStaked");
    });
  });
});
