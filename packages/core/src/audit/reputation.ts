// Reputation of a provider or verifier from what it has shown: audit and canary outcomes, jobs
// completed, how much of the time it was online, its latency, and failed capacity challenges.
// Pure, in [0, 1]: the scheduler filters on it (constraints.minReputation) and scores with it; the
// audit policy raises the audit probability of a low one (never lowers it below the policy's).
import { type AuditPolicy, type AuditRecord, auditProbability } from "./policy.js";

export interface ReputationInput {
  completed: number;
  failed: number;
  auditsPassed: number;
  auditsFailed: number;
  canariesPassed: number;
  canariesFailed: number;
  /** verdicts against the final outcome (lazy or griefing) */
  verifierStrikes: number;
  capacityFailures: number;
  /** ms online and ms known since first seen (both 0 when nothing measured yet) */
  onlineMs: number;
  seenMs: number;
  /** smoothed ms per standard unit; null until measured */
  msPerUnit: number | null;
  excluded: boolean;
}

/** a failed check weighs this many clean ones: a cheater cannot buy reputation back cheaply */
export const FAILURE_WEIGHT = 10;
/** ms per standard unit at which the latency factor is halfway between 1 and its floor */
export const LATENCY_SCALE = 50;

export function nodeReputation(r: ReputationInput): number {
  if (r.excluded) return 0;
  const good = r.completed + 2 * (r.auditsPassed + r.canariesPassed);
  const bad = r.failed + FAILURE_WEIGHT * (r.auditsFailed + r.canariesFailed + r.verifierStrikes + r.capacityFailures);
  const record = (1 + good) / (2 + good + bad); // Beta(1,1) mean: 0.5 for a newcomer
  const uptime = r.seenMs > 0 ? Math.min(1, r.onlineMs / r.seenMs) : 1;
  const latency = r.msPerUnit === null ? 1 : 0.8 + 0.2 / (1 + r.msPerUnit / LATENCY_SCALE);
  return record * (0.7 + 0.3 * uptime) * latency;
}

/** The audit probability given reputation: the policy's, raised towards newRate as reputation falls. */
export function auditProbabilityWithReputation(record: AuditRecord, policy: AuditPolicy, reputation: number): number {
  const base = auditProbability(record, policy);
  const r = Math.min(1, Math.max(0, reputation));
  const byReputation = policy.floorRate + (policy.newRate - policy.floorRate) * (1 - r) ** 2;
  return Math.max(base, Math.min(1, byReputation));
}
