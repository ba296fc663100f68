// Spot re-checks of passes, against a provider colluding with a verifier. Pure: draws come in.
//
// A verifier is chosen at random among those of another operator than the provider, and one pass
// clears an audit (verdicts.ts). A verifier of another operator can still be the provider's
// partner: it cannot be kept from knowing whose result it checks, since it must check the
// provider's signature over it. When it is drawn first, its pass would clear the cheated result
// with no other verifier ever seeing it, and nothing would contradict it. So a fraction `rate` of
// audits cleared by a single pass is sent to a second verifier all the same (who does not know it
// is a re-check: it gets an ordinary audit). If that one fails it, the split goes to a third, as
// for any split, and the majority decides: a verifier whose pass two others contradicted voted
// against the outcome (`dissenters`), which is a strike; two strikes exclude it.
import { type AuditOutcome, type CastVerdict, decideAudit, dissenters } from "./verdicts.js";

/** May this audit's verdicts get a spot re-check? Exactly one verdict so far, and it is a pass. */
export function passRecheckEligible(verdicts: CastVerdict[]): boolean {
  return verdicts.length === 1 && verdicts[0]?.pass === true;
}

/** Draws whether to send a single-pass audit to a second verifier; `u` is uniform in [0, 1). */
export function drawPassRecheck(verdicts: CastVerdict[], rate: number, u: number): boolean {
  return passRecheckEligible(verdicts) && u < rate;
}

/** Verifiers whose pass the outcome went against: passed a result the majority then slashed. */
export function contradictedPasses(verdicts: CastVerdict[], outcome: AuditOutcome): string[] {
  return outcome.kind === "slash" ? dissenters(verdicts, outcome) : [];
}

export interface CollusionCase {
  /** honest verifiers eligible for the audit (another operator than the provider) */
  honest: number;
  /** eligible verifiers that pass whatever the partner provider sends */
  colluders: number;
  /** chance that an honest verifier fails a cheated result */
  detection: number;
  /** the spot re-check rate of single passes */
  recheckRate: number;
}

export interface CollusionOdds {
  /** the cheated result ends slashed */
  slashed: number;
  /** the cheated result ends passed */
  passed: number;
  /** a split with no verifier left to break it: the audit waits */
  stuck: number;
  /** the audit ends with at least one colluder's pass contradicted (a strike) */
  colluderStruck: number;
}

/**
 * Exact odds for one audit of a cheated result of the colluders' partner, from the same rules the
 * gateway applies (decideAudit, the pass re-check): verifiers drawn uniformly without
 * replacement, honest ones failing the result with probability `detection`, colluders passing it.
 */
export function collusionOdds(c: CollusionCase): CollusionOdds {
  const odds: CollusionOdds = { slashed: 0, passed: 0, stuck: 0, colluderStruck: 0 };
  const finish = (vs: CastVerdict[], outcome: AuditOutcome, p: number) => {
    if (outcome.kind === "slash") odds.slashed += p;
    else odds.passed += p;
    if (contradictedPasses(vs, outcome).some((id) => id.startsWith("c"))) odds.colluderStruck += p;
  };
  const ask = (vs: CastVerdict[], h: number, k: number, p: number, orElse: AuditOutcome | undefined) => {
    if (h + k === 0) {
      if (orElse) finish(vs, orElse, p);
      else odds.stuck += p;
      return;
    }
    const i = vs.length;
    if (h > 0) {
      const ph = (p * h) / (h + k);
      walk([...vs, { verifierId: `h${i}`, pass: false }], h - 1, k, ph * c.detection);
      walk([...vs, { verifierId: `h${i}`, pass: true }], h - 1, k, ph * (1 - c.detection));
    }
    if (k > 0) walk([...vs, { verifierId: `c${i}`, pass: true }], h, k - 1, (p * k) / (h + k));
  };
  const walk = (vs: CastVerdict[], h: number, k: number, p: number) => {
    if (p === 0) return;
    const outcome = decideAudit(vs);
    if (outcome.kind === "next_verifier") return ask(vs, h, k, p, undefined);
    if (passRecheckEligible(vs) && c.recheckRate > 0) {
      ask(vs, h, k, p * c.recheckRate, outcome);
      if (c.recheckRate < 1) finish(vs, outcome, p * (1 - c.recheckRate));
      return;
    }
    finish(vs, outcome, p);
  };
  walk([], c.honest, c.colluders, 1);
  return odds;
}
