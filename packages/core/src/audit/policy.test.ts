import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  auditProbability,
  cheatingPayoff,
  drawAudit,
  expectedJobsUntilCaught,
  incentiveRatio,
  maxJobCost,
  parseAuditPolicy,
  slashAmount,
} from "./policy.js";
import { decideAudit, dissenters } from "./verdicts.js";

const policy = parseAuditPolicy({});

describe("audit policy", () => {
  it("audits new providers often, decays towards the floor with a clean record, jumps after a failure", () => {
    expect(auditProbability({ cleanJobs: 0, failures: 0 }, policy)).toBe(0.5);
    expect(auditProbability({ cleanJobs: 25, failures: 0 }, policy)).toBeCloseTo(0.05 + 0.45 / 2, 12);
    expect(auditProbability({ cleanJobs: 10_000, failures: 0 }, policy)).toBeCloseTo(0.05, 12);
    expect(auditProbability({ cleanJobs: 0, failures: 1 }, policy)).toBe(1);
    let prev = 1;
    for (let n = 1; n < 200; n++) {
      const p = auditProbability({ cleanJobs: n, failures: 1 }, policy);
      expect(p).toBeLessThan(prev);
      expect(p).toBeGreaterThanOrEqual(0.05);
      prev = p;
    }
  });

  it("draws an audit exactly when the uniform falls under the probability", () => {
    const rec = { cleanJobs: 25, failures: 0 };
    const p = auditProbability(rec, policy);
    expect(drawAudit(rec, policy, p - 1e-9)).toBe(true);
    expect(drawAudit(rec, policy, p)).toBe(false);
  });

  it("makes cheating a losing bet at the floor with the documented margin", () => {
    expect(incentiveRatio(policy)).toBeCloseTo(0.05 * 0.9 * 41, 12);
    expect(cheatingPayoff(policy, 100)).toBeLessThan(0);
    // exactly: (1 − 0.045)·100 − 0.045·40·100 = 95.5 − 180
    expect(cheatingPayoff(policy, 100)).toBeCloseTo(-84.5, 9);
    // a partial cheater at q = 0.01 is caught after 1/(q·p·d) jobs, having gained less than its stake
    const jobs = expectedJobsUntilCaught(policy, 0.01);
    expect(jobs).toBeCloseTo(2222.2, 1);
    const gainPerJob = 1_000n;
    const stake = gainPerJob * 40n;
    expect(BigInt(Math.ceil(jobs * 0.01)) * gainPerJob).toBeLessThan(stake);
    expect(maxJobCost(policy, stake)).toBe(gainPerJob);
  });

  it("refuses configurations that break the incentive condition, naming what to change", () => {
    expect(() => parseAuditPolicy({ floorRate: 0.01 })).toThrow(
      /incentive condition.*raise floorRate \(--audit-floor\) or slashMultiple \(--slash-multiple\)/,
    );
    expect(() => parseAuditPolicy({ slashMultiple: 10 })).toThrow(/incentive condition/);
    expect(() => parseAuditPolicy({ floorRate: 0.6 })).toThrow(/floorRate must not exceed/);
    expect(parseAuditPolicy({ floorRate: 0.01, slashMultiple: 200 }).slashMultiple).toBe(200);
  });

  it("backs the next job with what the stake leaves after the slashes of the jobs in flight", () => {
    // stake 1000, k 40: a job of 25 alone; beside one of 25 in flight, nothing more
    expect(maxJobCost(policy, 1_000n, 0n)).toBe(25n);
    expect(maxJobCost(policy, 1_000n, 10n)).toBe(15n);
    expect(maxJobCost(policy, 1_000n, 25n)).toBe(0n);
    // a stake unbonded or slashed under what the jobs in flight need backs nothing, not less than nothing
    expect(maxJobCost(policy, 1_000n, 30n)).toBe(0n);
  });

  it("admits only jobs whose slashes the stake covers all at once (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 13n }), { maxLength: 30 }),
        (stake, k, costs) => {
          const pol = { ...policy, slashMultiple: k };
          // jobs arrive one by one and each is admitted when it fits what the others left
          let inFlight = 0n;
          const admitted: bigint[] = [];
          for (const cost of costs)
            if (cost <= maxJobCost(pol, stake, inFlight)) {
              admitted.push(cost);
              inFlight += cost;
            }
          // whatever set of them it cheats on, and in whatever order they are slashed, each slash
          // is the full multiple: the stake covers k × the sum of all admitted at once
          expect(BigInt(k) * admitted.reduce((a, b) => a + b, 0n)).toBeLessThanOrEqual(stake);
          let left = stake;
          for (const cost of admitted) {
            const slashed = slashAmount(pol, cost, left);
            expect(slashed).toBe(cost * BigInt(k));
            left -= slashed;
          }
          // and the bound is tight: one more unit past it would not be covered
          const next = maxJobCost(pol, stake, inFlight);
          expect(BigInt(k) * (inFlight + next + 1n)).toBeGreaterThan(stake);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("caps the slash at the stake", () => {
    expect(slashAmount(policy, 10n, 1_000n)).toBe(400n);
    expect(slashAmount(policy, 100n, 1_000n)).toBe(1_000n);
  });
});

describe("audit verdicts", () => {
  const v = (verifierId: string, pass: boolean) => ({ verifierId, pass });
  it("clears on a pass, escalates a fail, slashes on two fails, lets a third decide a split", () => {
    expect(decideAudit([v("a", true)])).toEqual({ kind: "passed" });
    expect(decideAudit([v("a", false)])).toEqual({ kind: "next_verifier" });
    expect(decideAudit([v("a", false), v("b", false)])).toEqual({ kind: "slash", against: ["a", "b"] });
    expect(decideAudit([v("a", false), v("b", true)])).toEqual({ kind: "next_verifier" });
    expect(decideAudit([v("a", false), v("b", true), v("c", false)])).toEqual({ kind: "slash", against: ["a", "c"] });
    const cleared = decideAudit([v("a", false), v("b", true), v("c", true)]);
    expect(cleared).toEqual({ kind: "passed" });
    expect(dissenters([v("a", false), v("b", true), v("c", true)], cleared)).toEqual(["a"]);
    expect(dissenters([v("a", false), v("b", true), v("c", false)], { kind: "slash", against: ["a", "c"] })).toEqual([
      "b",
    ]);
  });
});
