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

/** Verifiers that voted against the final outcome: lazy (passed a slashed result) or griefing. */
export function dissenters(verdicts: CastVerdict[], outcome: AuditOutcome): string[] {
  if (outcome.kind === "next_verifier") return [];
  const slashed = outcome.kind === "slash";
  return verdicts.filter((v) => v.pass === slashed).map((v) => v.verifierId);
}
