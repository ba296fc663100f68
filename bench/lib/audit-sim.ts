// The gateway's audit policy over a stream of one provider's jobs, with core's functions (as
// packages/gateway/src/verification/coordinator.ts applies them): after each settled job the
// audit probability auditProbabilityWithReputation(record, policy, nodeReputation(...)), computed
// before the job's clean count is added; an audit asks verifiers until decideAudit decides, a
// single pass goes to a second verifier at passRecheckRate (drawPassRecheck); two verdicts against
// slash. What a verifier says of a cheated result comes from real verdicts measured in the bench.
import {
  type AuditPolicy,
  type AuditRecord,
  auditProbability,
  auditProbabilityWithReputation,
  type CastVerdict,
  decideAudit,
  drawPassRecheck,
  nodeReputation,
} from "@tessera/core";

export interface ProviderState {
  record: AuditRecord;
  completed: number;
  auditsPassed: number;
}

export const newProvider = (): ProviderState => ({
  record: { cleanJobs: 0, failures: 0 },
  completed: 0,
  auditsPassed: 0,
});

/** A provider with a long clean record: `jobs` settled, audited at the floor rate all along. */
export function establishedProvider(policy: AuditPolicy, jobs = 10_000): ProviderState {
  return {
    record: { cleanJobs: jobs, failures: 0 },
    completed: jobs,
    auditsPassed: Math.round(jobs * policy.floorRate),
  };
}

/** The probability the gateway audits this provider's next settled job (after `completed` counts it). */
export function nextAuditProbability(s: ProviderState, policy: AuditPolicy): number {
  const reputation = nodeReputation({
    completed: s.completed,
    failed: 0,
    auditsPassed: s.auditsPassed,
    auditsFailed: 0,
    canariesPassed: 0,
    canariesFailed: 0,
    verifierStrikes: 0,
    capacityFailures: 0,
    onlineMs: 0,
    seenMs: 0,
    msPerUnit: null,
    excluded: false,
  });
  return auditProbabilityWithReputation(s.record, policy, reputation);
}

/**
 * One audit: verifiers are asked in turn (verdicts[i] is the i-th verifier's pass/fail on this
 * result; a verdict past the list repeats the first) until decideAudit decides and no pass re-check
 * is drawn. Returns the outcome and how many verifiers checked the result.
 */
export function runAudit(
  verdictOf: (i: number) => boolean,
  recheckRate: number,
  rand: () => number,
): { slashed: boolean; verifiers: number } {
  const verdicts: CastVerdict[] = [];
  for (;;) {
    const outcome = decideAudit(verdicts);
    const recheck = outcome.kind === "passed" && drawPassRecheck(verdicts, recheckRate, rand());
    if (verdicts.length > 0 && outcome.kind !== "next_verifier" && !recheck)
      return { slashed: outcome.kind === "slash", verifiers: verdicts.length };
    const i = verdicts.length;
    verdicts.push({ verifierId: `v${i}`, pass: verdictOf(i) });
  }
}

export interface StreamResult {
  /** jobs settled up to and including the one whose audit slashed (or the cap) */
  jobs: number;
  slashed: boolean;
  /** cheated jobs that were paid and never caught (the caught one is refunded) */
  cheatedPaid: number;
  audits: number;
  /** verifier checks run, over all audits */
  verifierChecks: number;
}

export interface StreamOptions {
  policy: AuditPolicy;
  recheckRate: number;
  /** share of jobs cheated on */
  q: number;
  /** a measured cheated result's verdicts, verifier by verifier (drawn per audited cheated job) */
  cheatedVerdicts: (rand: () => number) => (i: number) => boolean;
  maxJobs: number;
  rand: () => number;
  start?: ProviderState;
  /** called for each job with its audit's verifier checks (0 when not audited) */
  onJob?: (index: number, verifierChecks: number) => void;
}

const honestVerdict = () => true;

/** One provider's stream of jobs until its stake is slashed or maxJobs have settled. */
export function simulateStream(o: StreamOptions): StreamResult {
  const s = o.start ? structuredClone(o.start) : newProvider();
  const r: StreamResult = { jobs: 0, slashed: false, cheatedPaid: 0, audits: 0, verifierChecks: 0 };
  while (r.jobs < o.maxJobs) {
    const index = r.jobs++;
    const cheated = o.q > 0 && o.rand() < o.q;
    s.completed++;
    const p = nextAuditProbability(s, o.policy);
    s.record.cleanJobs++;
    if (o.rand() >= p) {
      if (cheated) r.cheatedPaid++;
      o.onJob?.(index, 0);
      continue;
    }
    r.audits++;
    const audit = runAudit(cheated ? o.cheatedVerdicts(o.rand) : honestVerdict, o.recheckRate, o.rand);
    r.verifierChecks += audit.verifiers;
    o.onJob?.(index, audit.verifiers);
    if (audit.slashed) {
      r.slashed = true;
      return r;
    }
    if (cheated) r.cheatedPaid++;
    s.auditsPassed++;
  }
  return r;
}

/**
 * E[jobs until slashed] for a new provider cheating on a fraction q, each audited cheated job
 * slashed with probability d: Σₙ Πᵢ₍ᵢ₌₀…ₙ₋₁₎ (1 − q·d·pᵢ), with pᵢ = core's auditProbability after i
 * clean jobs (the reputation term, which can only raise p early on, left out).
 */
export function expectedJobsDecaying(policy: AuditPolicy, q: number, d: number, start = 0): number {
  if (q * d <= 0) return Number.POSITIVE_INFINITY;
  let survive = 1;
  let sum = 0;
  for (let i = 0; i < 100_000_000 && survive > 1e-12; i++) {
    sum += survive;
    survive *= 1 - q * d * auditProbability({ cleanJobs: start + i, failures: 0 }, policy);
  }
  return sum;
}
