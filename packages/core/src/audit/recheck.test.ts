import { describe, expect, it } from "vitest";
import { collusionOdds, contradictedPasses, drawPassRecheck, passRecheckEligible } from "./recheck.js";
import { type CastVerdict, decideAudit } from "./verdicts.js";

const v = (verifierId: string, pass: boolean): CastVerdict => ({ verifierId, pass });

describe("spot re-check of passes", () => {
  it("re-checks only an audit cleared by one pass, at the given rate", () => {
    expect(passRecheckEligible([v("a", true)])).toBe(true);
    expect(passRecheckEligible([])).toBe(false);
    expect(passRecheckEligible([v("a", false)])).toBe(false);
    // a re-check's own pass, or a pass in an escalation, is not re-checked again
    expect(passRecheckEligible([v("a", true), v("b", true)])).toBe(false);
    expect(passRecheckEligible([v("a", false), v("b", true), v("c", true)])).toBe(false);
    expect(drawPassRecheck([v("a", true)], 0.1, 0.05)).toBe(true);
    expect(drawPassRecheck([v("a", true)], 0.1, 0.1)).toBe(false);
    expect(drawPassRecheck([v("a", true)], 0, 0)).toBe(false);
    expect(drawPassRecheck([v("a", true)], 1, 0.999)).toBe(true);
    expect(drawPassRecheck([v("a", false)], 1, 0)).toBe(false);
  });

  it("names the verifier whose pass two others contradicted, and nobody when the pass holds", () => {
    const contradicted = [v("colluder", true), v("b", false), v("c", false)];
    expect(decideAudit(contradicted)).toEqual({ kind: "slash", against: ["b", "c"] });
    expect(contradictedPasses(contradicted, decideAudit(contradicted))).toEqual(["colluder"]);
    const upheld = [v("a", true), v("griefer", false), v("c", true)];
    expect(decideAudit(upheld)).toEqual({ kind: "passed" });
    expect(contradictedPasses(upheld, decideAudit(upheld))).toEqual([]);
    // a re-check that agrees clears the audit with two passes
    expect(decideAudit([v("a", true), v("b", true)])).toEqual({ kind: "passed" });
    // one that disagrees splits it: a third verifier decides
    expect(decideAudit([v("a", true), v("b", false)])).toEqual({ kind: "next_verifier" });
  });

  it("gives the odds of catching a cheater and its colluding verifier", () => {
    const base = { honest: 2, colluders: 1, detection: 1 };
    // colluder drawn first (1/3) clears the result unless re-checked; drawn second it is outvoted
    let o = collusionOdds({ ...base, recheckRate: 0 });
    expect(o.slashed).toBeCloseTo(2 / 3, 12);
    expect(o.colluderStruck).toBeCloseTo(1 / 3, 12);
    o = collusionOdds({ ...base, recheckRate: 0.1 });
    expect(o.slashed).toBeCloseTo(2 / 3 + 0.1 / 3, 12);
    expect(o.colluderStruck).toBeCloseTo(1 / 3 + 0.1 / 3, 12);
    o = collusionOdds({ ...base, recheckRate: 1 });
    expect(o.slashed).toBeCloseTo(1, 12);
    expect(o.colluderStruck).toBeCloseTo(2 / 3, 12);
    expect(o.slashed + o.passed + o.stuck).toBeCloseTo(1, 12);
    // no colluder: two honest fails slash whatever the rate
    expect(collusionOdds({ honest: 3, colluders: 0, detection: 1, recheckRate: 0.1 }).slashed).toBeCloseTo(1, 12);
    // imperfect detection, no colluder: fail-fail, fail-pass-fail, and pass re-checked then fail-fail
    const d = 0.9;
    const r = 0.1;
    const imperfect = collusionOdds({ honest: 3, colluders: 0, detection: d, recheckRate: r });
    expect(imperfect.slashed).toBeCloseTo(d * d + d * (1 - d) * d + (1 - d) * r * d * d, 12);
    // one honest verifier and one colluder: a split has nobody left to break it
    const two = collusionOdds({ honest: 1, colluders: 1, detection: 1, recheckRate: 1 });
    expect(two.slashed).toBe(0);
    expect(two.stuck).toBeCloseTo(1, 12);
  });

  it("agrees with a simulation of the gateway's audit loop", () => {
    let seed = 12345; // mulberry32
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const c = { honest: 3, colluders: 1, detection: 0.9, recheckRate: 0.25 };
    const runs = 40_000;
    let slashed = 0;
    let struck = 0;
    for (let n = 0; n < runs; n++) {
      const pool = [...Array.from({ length: c.honest }, (_, i) => `h${i}`), "c0"];
      const verdicts: CastVerdict[] = [];
      for (;;) {
        const outcome = decideAudit(verdicts);
        const recheck = outcome.kind === "passed" && drawPassRecheck(verdicts, c.recheckRate, rand());
        if (outcome.kind !== "next_verifier" && !recheck) {
          if (outcome.kind === "slash") slashed++;
          if (contradictedPasses(verdicts, outcome).includes("c0")) struck++;
          break;
        }
        const [id] = pool.splice(Math.floor(rand() * pool.length), 1) as [string];
        verdicts.push(v(id, id === "c0" ? true : rand() >= c.detection));
      }
    }
    const o = collusionOdds(c);
    expect(Math.abs(slashed / runs - o.slashed)).toBeLessThan(0.01);
    expect(Math.abs(struck / runs - o.colluderStruck)).toBeLessThan(0.01);
  });
});
