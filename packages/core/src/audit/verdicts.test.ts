import { describe, expect, it } from "vitest";
import { type CanaryRecord, decideAudit, majorityVouched } from "./verdicts.js";

const none: CanaryRecord = { goodPassed: 0, wrongFailed: 0 };

describe("a majority's weight against its dissenters", () => {
  const split = [
    { verifierId: "a", pass: false },
    { verifierId: "b", pass: true },
    { verifierId: "c", pass: false },
  ];
  const cleared = [
    { verifierId: "a", pass: false },
    { verifierId: "b", pass: true },
    { verifierId: "c", pass: true },
  ];

  it("strikes for a slash only when every failer has passed a known-good canary", () => {
    const records: Record<string, CanaryRecord> = { a: { goodPassed: 1, wrongFailed: 0 }, b: none, c: none };
    const record = (id: string) => records[id] ?? none;
    expect(decideAudit(split).kind).toBe("slash");
    expect(majorityVouched(split, decideAudit(split), record)).toBe(false);
    records.c = { goodPassed: 2, wrongFailed: 0 };
    expect(majorityVouched(split, decideAudit(split), record)).toBe(true);
  });

  it("strikes for a pass only when every passer has failed a known-wrong canary: a known-good one proves nothing there", () => {
    const records: Record<string, CanaryRecord> = {
      a: none,
      b: { goodPassed: 5, wrongFailed: 1 },
      c: { goodPassed: 5, wrongFailed: 0 },
    };
    const record = (id: string) => records[id] ?? none;
    expect(decideAudit(cleared).kind).toBe("passed");
    expect(majorityVouched(cleared, decideAudit(cleared), record)).toBe(false);
    records.c = { goodPassed: 0, wrongFailed: 1 };
    expect(majorityVouched(cleared, decideAudit(cleared), record)).toBe(true);
  });

  it("has nothing to vouch while the audit is undecided", () => {
    const first = [{ verifierId: "a", pass: false }];
    expect(majorityVouched(first, decideAudit(first), () => ({ goodPassed: 9, wrongFailed: 9 }))).toBe(false);
  });
});
