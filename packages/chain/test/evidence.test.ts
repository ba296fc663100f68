// Tessera's job results as Slashing evidence, against the real contract: the evidence signer's
// Result and Verdicts slash through submitSlash, recovery names the signer (and not a stranger),
// and the same evidence cannot be used twice.
import { beforeAll, describe, expect, it } from "vitest";
import {
  evidenceSigner,
  type ResultEvidence,
  recoverResultSigner,
  recoverVerdictSigner,
  resultEvidenceHash,
  signedBy,
  toChainResult,
} from "../src/eip712/evidence.js";
import { signVoucher } from "../src/eip712/sign.js";
import { slashArgs, submitSlash } from "../src/settle/slash.js";
import { bondStake, stakeOf } from "../src/settle/stake.js";
import { expectRevert, type Fixture, setup, TEST_PARAMS } from "./fixture.js";

describe("slashing evidence from job results", () => {
  let f: Fixture;
  let r: ResultEvidence;
  const meta = { region: "eu-west", pricePerUnit: 40n, endpointKey: `0x${"00".repeat(32)}` as const };
  beforeAll(async () => {
    f = await setup();
    for (const n of ["verifierA", "verifierB"] as const) await f.wait(f.c[n].registry.write.register([2_000n, meta]));
    // the consumer paid the provider 500 through the escrow, so up to 500 is refundable
    await f.wait(f.c.consumer.escrow.write.deposit([5_000n]));
    const v = { consumer: f.acc.consumer.address, provider: f.acc.provider.address, cumulative: 500n };
    await f.wait(f.c.provider.escrow.write.redeem([v, await signVoucher(f.acc.consumer, f.chainId, f.dep.escrow, v)]));
    r = {
      jobId: "job_0123456789abcdef",
      attempt: 2,
      outputHash: "ab".repeat(32),
      standardUnits: 1234,
      consumer: f.acc.consumer.address,
      cost: 300n,
    };
  });

  it("maps a job result onto the contract's Result struct and hash", async () => {
    const c = toChainResult(r);
    expect(c.outputHash).toBe(`0x${"ab".repeat(32)}`);
    expect(await f.c.outsider.slashing.read.resultHash([c])).toBe(resultEvidenceHash(r));
    expect(() => toChainResult({ ...r, outputHash: "xyz" })).toThrow();
  });

  it("recovers who signed a Result and a Verdict; a stranger's signature does not pass", async () => {
    const d = { chainId: f.chainId, slashing: f.dep.slashing };
    const p = evidenceSigner(f.acc.provider);
    const sig = await p.signResult(d, r);
    expect(await recoverResultSigner(d, r, sig)).toBe(f.acc.provider.address);
    expect(await signedBy(() => recoverResultSigner(d, r, sig), f.acc.outsider.address)).toBe(false);
    expect(await signedBy(() => recoverResultSigner(d, { ...r, cost: 301n }, sig), f.acc.provider.address)).toBe(false);
    expect(await signedBy(() => recoverResultSigner(d, r, "0x1234"), f.acc.provider.address)).toBe(false);
    const v = await evidenceSigner(f.acc.verifierA).signVerdict(d, r, false, 77);
    expect(await recoverVerdictSigner(d, r, false, 77, v)).toBe(f.acc.verifierA.address);
    expect(await signedBy(() => recoverVerdictSigner(d, r, true, 77, v), f.acc.verifierA.address)).toBe(false);
  });

  it("bonds stake (register, then top up) and slashes once on the signed evidence", async () => {
    const d = { chainId: f.chainId, slashing: f.dep.slashing };
    const { createWalletClient, publicActions } = await import("viem");
    const { hardhat } = await import("viem/chains");
    const { hardhatTransport } = await import("../src/devnet/hardhat.js");
    const transport = hardhatTransport(f.provider);
    const clientsOf = (account: typeof f.acc.provider) => {
      const wallet = createWalletClient({ chain: hardhat, transport, account, pollingInterval: 20 });
      return { wallet, public: wallet.extend(publicActions) } as never;
    };
    const first = await bondStake(clientsOf(f.acc.provider), f.dep, 1_500n, { region: "eu-west" });
    expect(first).toMatchObject({ action: "register", bonded: 1_500n });
    const second = await bondStake(clientsOf(f.acc.provider), f.dep, 500n);
    expect(second).toMatchObject({ action: "topUp", bonded: 2_000n });

    const evidence = {
      result: r,
      providerSignature: await evidenceSigner(f.acc.provider).signResult(d, r),
      verdicts: [
        { valid: false, issuedAt: 10, signature: await evidenceSigner(f.acc.verifierA).signVerdict(d, r, false, 10) },
        { valid: false, issuedAt: 11, signature: await evidenceSigner(f.acc.verifierB).signVerdict(d, r, false, 11) },
      ] as [never, never],
    };
    const outsider = clientsOf(f.acc.outsider);
    const receipt = await submitSlash(outsider, f.dep.slashing, evidence);
    const taken = r.cost + TEST_PARAMS.providerPenalty;
    expect(receipt).toMatchObject({ provider: f.acc.provider.address, taken, refund: r.cost });
    expect(receipt.reward).toBe((((taken - r.cost) * 5_000n) / 10_000n / 2n) * 2n);
    expect((await stakeOf(outsider, f.dep.registry, f.acc.provider.address)).bonded).toBe(2_000n - taken);
    await expectRevert(submitSlash(outsider, f.dep.slashing, evidence), "EvidenceUsed");
    expect(slashArgs(evidence)[2][0].valid).toBe(false);
  });
});
