// Wire formats of verification: the gateway hands a settled result to a verifier (`audit`), the
// verifier answers with a signed `verdict` carrying what it checked and the margins it measured;
// and proof of capacity: a seeded matrix challenge and the product that answers it.
import { z } from "zod";
import { EthAddressSchema, EthSignatureSchema } from "./chain.js";
import { ContentIdSchema, JobOutputSchema, JobSpecSchema } from "./job.js";
import { MoneySchema, UnitsSchema } from "./units.js";

const NodeIdSchema = z.string().regex(/^[0-9a-f]{64}$/);
export const AuditIdSchema = z.string().min(1).max(80);

/**
 * What a verifier found. `metrics` holds the measured margins (e.g. the largest greedy logit gap,
 * the lowest token logprob, the likelihood z-score) so that thresholds can be tuned from data.
 */
export const VerdictReportSchema = z
  .object({
    pass: z.boolean(),
    /** one line per failed check; empty when the result passed */
    reasons: z.array(z.string().max(500)).max(32),
    /** names of the checks that ran */
    checks: z.array(z.string().max(64)).max(32),
    metrics: z.record(z.string().max(64), z.number()),
  })
  .strict();
export type VerdictReport = z.infer<typeof VerdictReportSchema>;

// gateway -> verifier
export const AuditMsg = z.object({
  type: z.literal("audit"),
  auditId: AuditIdSchema,
  jobId: z.string().min(1).max(64),
  attempt: z.number().int().positive(),
  providerId: NodeIdSchema,
  spec: JobSpecSchema,
  output: JobOutputSchema,
  outputHash: ContentIdSchema,
  units: UnitsSchema,
  /** the provider's result signature, so the verifier can check it is auditing a real claim */
  signature: z.string().max(200),
  /**
   * --settlement evm: the rest of the EIP-712 Result the provider signed (consumer, billed cost,
   * its signature), so the verifier signs a Verdict on exactly that result
   */
  evidence: z
    .object({ consumer: EthAddressSchema, cost: MoneySchema, providerSignature: EthSignatureSchema })
    .strict()
    .optional(),
});
export type AuditMessage = z.infer<typeof AuditMsg>;

/**
 * gateway -> verifier: the gateway waits no more for this audit's verdict from this node (it is
 * decided, or another verifier has it), so the node drops it, running or waiting for memory, and
 * sends no verdict. Sent only for audits the node listed in a heartbeat (HeartbeatMsg.audits), so a
 * node from before this message, which lists none, never gets it.
 */
export const AuditCancelMsg = z.object({
  type: z.literal("audit_cancel"),
  auditId: AuditIdSchema,
  reason: z.string().max(2000),
});
export type AuditCancelMessage = z.infer<typeof AuditCancelMsg>;

// verifier -> gateway
export const VerdictMsg = z.object({
  type: z.literal("verdict"),
  auditId: AuditIdSchema,
  jobId: z.string().min(1).max(64),
  report: VerdictReportSchema,
  /** the verifier's signature over tessera.verdict.v1 (see verdictSigningBytes) */
  signature: z.string().max(200),
  elapsedMs: z.number().nonnegative(),
  /** --settlement evm: EIP-712 Verdict(result, valid = pass, issuedAt) signed with the verifier's eth key */
  chain: z.object({ issuedAt: z.number().int().nonnegative(), signature: EthSignatureSchema }).strict().optional(),
});
export type VerdictMessage = z.infer<typeof VerdictMsg>;

// gateway -> provider: multiply two seeded n×n matrices (randomMatrix(n, seedA) · randomMatrix(n, seedB))
export const CapacityChallengeMsg = z.object({
  type: z.literal("capacity_challenge"),
  challengeId: z.string().min(1).max(80),
  n: z.number().int().min(8).max(2048),
  seedA: z.number().int().nonnegative().max(0xffffffff),
  seedB: z.number().int().nonnegative().max(0xffffffff),
  deadlineMs: z.number().int().positive(),
});
export type CapacityChallengeMessage = z.infer<typeof CapacityChallengeMsg>;

// provider -> gateway: the product as little-endian float64, row-major, base64
export const CapacityProofMsg = z.object({
  type: z.literal("capacity_proof"),
  challengeId: z.string().min(1).max(80),
  product: z
    .string()
    .max(48 * 1024 * 1024)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64"),
});
export type CapacityProofMessage = z.infer<typeof CapacityProofMsg>;
