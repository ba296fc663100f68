// The audit policy: how likely a settled result is to be re-checked, per provider, and the
// incentive condition that makes cheating a losing bet. Pure: the caller passes the random draw.
//
// A cheater that skips the work of a job gains at most what the job pays, g. It is audited with
// probability p (never below the floor), an audit of a cheated result detects it with probability
// d, and detection slashes k·g (the slash multiple). Cheating once is worth
//     (1 − p·d)·g − p·d·k·g,
// negative exactly when p·d·(1 + k) > 1. The defaults (floor 0.05, d 0.9, k 40) give
// p·d·(1 + k) = 1.845: cheating loses 84 % more than it gains at the floor, more everywhere else.
// A provider cheating on a fraction q of jobs is caught after 1/(q·p·d) jobs in expectation, having
// gained g/(p·d) by then: the minimum stake must cover that, minStake ≥ g_max/(p·d) = 22.2·g_max,
// and covers k·g_max = 40·g_max by construction of maxJobCost below.
import { z } from "zod";

export const AuditPolicySchema = z
  .object({
    /** audit probability of a provider with no record */
    newRate: z.number().gt(0).max(1).default(0.5),
    /** audit probability after a failed audit or canary (then decaying again) */
    afterFailureRate: z.number().gt(0).max(1).default(1),
    /** the lowest audit probability, however clean the record */
    floorRate: z.number().gt(0).max(1).default(0.05),
    /** clean settled jobs over which the excess above the floor halves */
    halfLifeJobs: z.number().positive().default(25),
    /** assumed chance that auditing a cheated result detects it */
    detection: z.number().gt(0).max(1).default(0.9),
    /** slash = slashMultiple × the job's cost (at most the stake) */
    slashMultiple: z.number().int().positive().default(40),
    /** the incentive condition must hold by this factor: p·d·(1 + k) ≥ margin */
    margin: z.number().min(1).default(1.5),
  })
  .strict();
export type AuditPolicy = z.infer<typeof AuditPolicySchema>;
export type AuditPolicyInput = z.input<typeof AuditPolicySchema>;

export interface AuditRecord {
  /** settled jobs since the last failure (or since joining) */
  cleanJobs: number;
  /** failed audits and canaries ever */
  failures: number;
}

/** p = floor + (start − floor)·2^(−clean/halfLife); start is newRate, or afterFailureRate once failed. */
export function auditProbability(record: AuditRecord, policy: AuditPolicy): number {
  const start = record.failures > 0 ? policy.afterFailureRate : policy.newRate;
  const excess = Math.max(0, start - policy.floorRate);
  return policy.floorRate + excess * 2 ** (-record.cleanJobs / policy.halfLifeJobs);
}

/** Draws whether to audit; `u` is a uniform draw in [0, 1) made after the result was committed. */
export function drawAudit(record: AuditRecord, policy: AuditPolicy, u: number): boolean {
  return u < auditProbability(record, policy);
}

/** Expected value of cheating once on a job paying `gain`, at the policy floor (the worst case). */
export function cheatingPayoff(policy: AuditPolicy, gain: number, p = policy.floorRate): number {
  const caught = p * policy.detection;
  return (1 - caught) * gain - caught * policy.slashMultiple * gain;
}

/** p·d·(1 + k) at the floor: above 1 cheating loses money; `margin` asks for more. */
export function incentiveRatio(policy: AuditPolicy): number {
  return policy.floorRate * policy.detection * (1 + policy.slashMultiple);
}

/** Expected jobs until a provider cheating on a fraction q of jobs is caught (at the floor). */
export function expectedJobsUntilCaught(policy: AuditPolicy, q: number, p = policy.floorRate): number {
  return 1 / (q * p * policy.detection);
}

/**
 * The largest cost of the next job leased to a provider: what its stake leaves after the slashes
 * its jobs in flight could take (k × `inFlight`, the sum of their costs), over k. One stake backs
 * every job the provider holds, and a slash takes min(stake, k × cost): were each job checked
 * against the whole stake alone, a provider holding C jobs of stake/k each and cheating on all of
 * them would lose the stake to the first slash, and the others would take nothing (nor refund
 * their consumers). Under this bound k × (inFlight + the new job's cost) ≤ stake, so every slash
 * is the full multiple whichever of them are caught. With nothing in flight: stake / k, and a
 * stake of k × g_max backs a job of g_max. Never negative: a stake that shrank (an unbond, a slash)
 * under what its jobs in flight need backs nothing more until they end.
 */
export function maxJobCost(policy: AuditPolicy, stake: bigint, inFlight = 0n): bigint {
  const left = stake - BigInt(policy.slashMultiple) * inFlight;
  return left > 0n ? left / BigInt(policy.slashMultiple) : 0n;
}

/** Validates a policy against the incentive condition; throws naming what to change. */
export function parseAuditPolicy(input: AuditPolicyInput): AuditPolicy {
  const policy = AuditPolicySchema.parse(input);
  if (policy.floorRate > policy.newRate || policy.floorRate > policy.afterFailureRate)
    throw new RangeError("audit floorRate must not exceed newRate or afterFailureRate");
  const ratio = incentiveRatio(policy);
  if (ratio < policy.margin)
    throw new RangeError(
      `audit policy breaks the incentive condition: floorRate × detection × (1 + slashMultiple) = ` +
        `${ratio.toFixed(3)} < margin ${policy.margin}; raise floorRate (--audit-floor) or slashMultiple (--slash-multiple)`,
    );
  // the stake must outlast a q-cheater's expected gains: k ≥ 1/(p·d) so that g/(p·d) ≤ k·g ≤ stake
  if (policy.slashMultiple < 1 / (policy.floorRate * policy.detection))
    throw new RangeError(
      "slashMultiple (--slash-multiple) must be at least 1/(floorRate × detection) (--audit-floor) so stake outlasts a partial cheater",
    );
  return policy;
}

/** The slash for a cheated job: k × cost, capped by what is staked. */
export function slashAmount(policy: AuditPolicy, cost: bigint, staked: bigint): bigint {
  const want = cost * BigInt(policy.slashMultiple);
  return want < staked ? want : staked;
}
