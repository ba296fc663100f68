import { describe, expect, it } from "vitest";
import { checkInvariants } from "../ledger/invariants.js";
import { billedCost } from "../metering/cost.js";
import {
  afterSubmitFailure,
  type ChainSlashState,
  type ChainVerdictEvidence,
  chainSlashEvent,
  dueForSubmit,
  pickSlashEvidence,
} from "./slashing.js";

const P = "0x00000000000000000000000000000000000000Aa";
const v = (verifierId: string, verifierAddress: string, valid = false, issuedAt = 1): ChainVerdictEvidence => ({
  verifierId,
  verifierAddress,
  valid,
  issuedAt,
  signature: `0x${verifierId}`,
});
const fresh: ChainSlashState = { status: "pending", attempts: 0, nextAt: 0, error: null };

describe("pickSlashEvidence", () => {
  it("takes the first two verdicts against the result from distinct verifier addresses", () => {
    const a = v("a", "0x01");
    const b = v("b", "0x02");
    const r = pickSlashEvidence([v("x", "0x09", true), a, v("a2", "0x01"), b, v("c", "0x03")], P);
    expect(r).toEqual({ ok: true, verdicts: [a, b] });
  });

  it("refuses passes, the provider's own address and a single verifier signing twice", () => {
    const r = pickSlashEvidence([v("p", P.toLowerCase()), v("a", "0x01"), v("a", "0x01"), v("b", "0x02", true)], P);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/1 signed verdict/);
  });
});

describe("afterSubmitFailure", () => {
  it("retries transient failures with exponential backoff, then gives up", () => {
    let s = fresh;
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      s = afterSubmitFailure(s, undefined, "fetch failed", 1_000, { maxAttempts: 4, baseMs: 100, maxMs: 250 });
      delays.push(s.nextAt - 1_000);
      expect(s.status).toBe("pending");
      expect(dueForSubmit(s, 1_000)).toBe(false);
      expect(dueForSubmit(s, s.nextAt)).toBe(true);
    }
    expect(delays).toEqual([100, 200, 250]);
    s = afterSubmitFailure(s, undefined, "fetch failed", 1_000, { maxAttempts: 4, baseMs: 100, maxMs: 250 });
    expect(s).toMatchObject({ status: "failed", attempts: 4 });
    expect(dueForSubmit(s, 10_000)).toBe(false);
  });

  it("treats used evidence as done and refused evidence as final, never to be sent again", () => {
    expect(afterSubmitFailure(fresh, "EvidenceUsed", "", 5).status).toBe("used");
    const refused = afterSubmitFailure(fresh, "VerifierNotStaked", "0x01", 5);
    expect(refused.status).toBe("failed");
    expect(refused.error).toMatch(/VerifierNotStaked/);
    expect(dueForSubmit(refused, 1e12)).toBe(false);
  });
});

describe("chainSlashEvent", () => {
  it("credits the refund to the consumer's custodial wallet from outside, keeping the invariants", () => {
    const ev = chainSlashEvent({ id: "chain:1:0xab:0", jobId: "j", consumerId: "c", refund: 70n, at: 1 });
    expect(ev).toMatchObject({ id: "chain:1:0xab:0", kind: "chain_slash", jobId: "j" });
    expect(ev.transfers).toEqual([{ from: "external", to: "consumer:c:wallet", amount: 70n }]);
    expect(
      checkInvariants(
        new Map([
          ["external", -70n],
          ["consumer:c:wallet", 70n],
        ]),
      ).ok,
    ).toBe(true);
    expect(chainSlashEvent({ id: "x", jobId: "j", consumerId: "c", refund: 0n, at: 1 }).transfers).toEqual([]);
    expect(() => chainSlashEvent({ id: "x", jobId: "j", consumerId: "c", refund: -1n, at: 1 })).toThrow(RangeError);
  });
});

describe("billedCost", () => {
  it("bills units × price, capped at what the job escrowed", () => {
    expect(billedCost(10, 7, 100n)).toBe(70n);
    expect(billedCost(10, 70, 100n)).toBe(100n);
  });
});
