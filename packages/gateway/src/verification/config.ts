// Verification settings of a gateway, validated at start-up against the incentive condition.
import { AuditPolicySchema, CanaryPolicySchema, parseAuditPolicy } from "@tessera/core";
import { z } from "zod";
import { CapacityConfigSchema } from "./capacity.js";

export const VerificationConfigSchema = z
  .object({
    policy: AuditPolicySchema.default(AuditPolicySchema.parse({})),
    /** nano-credits a provider must have staked to be scheduled; 0 schedules unstaked providers */
    minStake: z
      .string()
      .regex(/^[0-9]{1,30}$/)
      .default("0"),
    /**
     * nano-credits a verifier must have staked to be sent audits, and what a canary that catches
     * its verdict burns; unset: the same as minStake. Verifiers cost nothing to make otherwise, and
     * two of made-up operators could fail honest results and share each slash's reporter rewards.
     */
    verifierMinStake: z
      .string()
      .regex(/^[0-9]{1,30}$/)
      .optional(),
    /** a verifier's fee per verdict, in basis points of the audited job's cost (paid from protocol fees) */
    auditFeeBps: z.number().int().min(0).max(10_000).default(1_000),
    /** share of a slash (after the consumer's refund) paid to the verifiers who caught it */
    rewardBps: z.number().int().min(0).max(10_000).default(2_000),
    /** how long unbonded stake stays slashable before it is paid out */
    unbondingMs: z
      .number()
      .int()
      .min(0)
      .default(7 * 24 * 3600_000),
    /** a verifier that has not answered in this long is replaced by another */
    verdictTimeoutMs: z.number().int().positive().default(60_000),
    /** verifiers whose verdicts went against the final outcome this many times are no longer used */
    verifierStrikes: z.number().int().positive().default(2),
    /**
     * share of audits cleared by a single pass that go to a second verifier all the same (core's
     * audit/recheck.ts): a verifier passing its partner's cheated results is contradicted and struck
     */
    passRecheckRate: z.number().min(0).max(1).default(0.1),
    /** canary jobs for providers and canary audits for verifiers (core's audit/canary.ts) */
    canaries: CanaryPolicySchema.default(CanaryPolicySchema.parse({})),
    /** proof of capacity challenges (capacity.ts) */
    capacity: CapacityConfigSchema.default(CapacityConfigSchema.parse({})),
  })
  .strict();
export type VerificationConfig = z.infer<typeof VerificationConfigSchema>;

export function checkVerificationConfig(c: VerificationConfig): VerificationConfig {
  parseAuditPolicy(c.policy); // throws naming the broken incentive condition
  return c;
}
