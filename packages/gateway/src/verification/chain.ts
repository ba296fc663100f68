// The seam between verification and on-chain settlement: what the coordinator asks of the chain
// when the gateway settles with --settlement evm (implemented in settlement/start-evm.ts).
import type { JobRecord } from "@tessera/core";
import type { AuditMessage, VerdictMessage } from "@tessera/protocol";
import type { ProviderSession } from "../engine/sessions.js";

/**
 * Verification under on-chain settlement (settlement/start-evm.ts): stake is read from
 * ProviderRegistry, verdicts must carry EIP-712 signatures, and slashes go to the Slashing contract.
 */
export interface ChainVerification {
  /** bonded stake in ProviderRegistry of this eth address (0 without one) */
  stakeOf(ethAddress: string | undefined): Promise<bigint>;
  /** the registry's minimum: the contract counts no verdict of a verifier bonded below it */
  verifierMinStake: bigint;
  auditEvidence(job: JobRecord): Promise<AuditMessage["evidence"]>;
  /** checks and stores a verdict's EIP-712 signature; returns why it is refused */
  acceptVerdict(
    auditId: string,
    job: JobRecord,
    session: ProviderSession,
    msg: VerdictMessage,
  ): Promise<string | undefined>;
  /** a first verdict against the result, signed: open a dispute on chain (freezes the provider's stake) */
  disputed(auditId: string, job: JobRecord, verifierId: string): void;
  /** the audit decided a slash: submit the evidence on chain */
  slashed(auditId: string, job: JobRecord): Promise<void>;
}
