import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAuditPolicy } from "./policy.js";
import { auditProbabilityWithReputation, nodeReputation, type ReputationInput } from "./reputation.js";

const fresh: ReputationInput = {
  completed: 0,
  failed: 0,
  auditsPassed: 0,
  auditsFailed: 0,
  canariesPassed: 0,
  canariesFailed: 0,
  verifierStrikes: 0,
  capacityFailures: 0,
  onlineMs: 0,
  seenMs: 0,
  msPerUnit: null,
  excluded: false,
};
const policy = parseAuditPolicy({});

describe("reputation", () => {
  it("starts a newcomer at 0.5 and rises with clean audits and canaries", () => {
    expect(nodeReputation(fresh)).toBe(0.5);
    const clean = nodeReputation({ ...fresh, completed: 50, auditsPassed: 10, canariesPassed: 5 });
    expect(clean).toBeGreaterThan(0.95);
  });

  it("drops sharply after a failed audit, canary, strike or capacity challenge, and is 0 once excluded", () => {
    const clean = { ...fresh, completed: 50, auditsPassed: 10 };
    for (const k of ["auditsFailed", "canariesFailed", "verifierStrikes", "capacityFailures"] as const) {
      expect(nodeReputation({ ...clean, [k]: 1 })).toBeLessThan(nodeReputation(clean) - 0.1);
    }
    expect(nodeReputation({ ...clean, excluded: true })).toBe(0);
  });

  it("counts uptime and latency, and always stays in [0, 1]", () => {
    const base = { ...fresh, completed: 20 };
    expect(nodeReputation({ ...base, onlineMs: 50, seenMs: 100 })).toBeLessThan(
      nodeReputation({ ...base, onlineMs: 100, seenMs: 100 }),
    );
    expect(nodeReputation({ ...base, msPerUnit: 500 })).toBeLessThan(nodeReputation({ ...base, msPerUnit: 1 }));
    const n = fc.nat({ max: 1_000_000 });
    fc.assert(
      fc.property(
        n,
        n,
        n,
        n,
        n,
        n,
        n,
        n,
        n,
        n,
        fc.option(fc.double({ min: 0, max: 1e6, noNaN: true })),
        fc.boolean(),
        (a, b, c, d, e, f, g, h, i, j, l, x) => {
          const r = nodeReputation({
            completed: a,
            failed: b,
            auditsPassed: c,
            auditsFailed: d,
            canariesPassed: e,
            canariesFailed: f,
            verifierStrikes: g,
            capacityFailures: h,
            onlineMs: Math.min(i, j),
            seenMs: j,
            msPerUnit: l,
            excluded: x,
          });
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it("never audits below the policy, and audits a low reputation more", () => {
    const rec = { cleanJobs: 10_000, failures: 0 };
    expect(auditProbabilityWithReputation(rec, policy, 1)).toBeCloseTo(policy.floorRate, 9);
    expect(auditProbabilityWithReputation(rec, policy, 0.2)).toBeGreaterThan(0.3);
    fc.assert(
      fc.property(
        fc.nat({ max: 1000 }),
        fc.nat({ max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (clean, failures, r) => {
          const p = auditProbabilityWithReputation({ cleanJobs: clean, failures }, policy, r);
          expect(p).toBeGreaterThanOrEqual(policy.floorRate);
          expect(p).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
