// Deciding an audit from verdicts: one pass clears the result; a fail sends it to a second
// verifier; two fails slash; a split (one fail, one pass) goes to a third, whose verdict decides.
// Pure: verdicts in, the next step out.

export type AuditOutcome = { kind: "passed" } | { kind: "slash"; against: string[] } | { kind: "next_verifier" };

export interface CastVerdict {
  verifierId: string;
  pass: boolean;
}

export const MAX_VERIFIERS = 3;

export function decideAudit(verdicts: CastVerdict[]): AuditOutcome {
  const fails = verdicts.filter((v) => !v.pass);
  const passes = verdicts.length - fails.length;
  if (fails.length >= 2) return { kind: "slash", against: fails.map((v) => v.verifierId) };
  if (fails.length === 0 && passes >= 1) return { kind: "passed" };
  // one fail: with no pass yet ask a second; split 1–1 ask a third; 1 fail vs 2 passes clears it
  if (passes >= 2) return { kind: "passed" };
  if (verdicts.length >= MAX_VERIFIERS) return { kind: "passed" };
  return { kind: "next_verifier" };
}

/** What a verifier has shown on canary audits, in each direction. */
export interface CanaryRecord {
  /** known-good results it passed: it does not fail honest work */
  goodPassed: number;
  /** known-wrong results it failed: it does not pass wrong work */
  wrongFailed: number;
}

/**
 * Do the verdicts that decided an outcome carry weight enough to strike those who voted against
 * it? Only when each verifier of the majority has shown on a canary that it judges that way
 * rightly: failers of a slashed result have each passed a known-good one, passers of a cleared
 * result have each failed a known-wrong one. Votes alone cannot tell an honest minority from a
 * wrong one: two griefers outvoting an honest verifier would strike it, twice, and exclude it (in
 * bench/griefing.ts, before this rule, both honest verifiers of a network in one trial of 40),
 * leaving only griefers to judge. A griefer fails every canary it is sent, so it never vouches a
 * slash; an honest or colluding verifier judges canaries rightly and does.
 */
export function majorityVouched(
  verdicts: CastVerdict[],
  outcome: AuditOutcome,
  record: (verifierId: string) => CanaryRecord,
): boolean {
  if (outcome.kind === "next_verifier") return false;
  const slashed = outcome.kind === "slash";
  return verdicts
    .filter((v) => v.pass !== slashed)
    .every((v) => (slashed ? record(v.verifierId).goodPassed : record(v.verifierId).wrongFailed) > 0);
}

/** Verifiers that voted against the final outcome: lazy (passed a slashed result) or griefing. */
export function dissenters(verdicts: CastVerdict[], outcome: AuditOutcome): string[] {
  if (outcome.kind === "next_verifier") return [];
  const slashed = outcome.kind === "slash";
  return verdicts.filter((v) => v.pass === slashed).map((v) => v.verifierId);
}
