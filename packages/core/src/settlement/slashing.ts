// Decisions of slashing on chain, kept pure: which signed verdicts make the evidence the Slashing
// contract takes, what to do after a submission fails (retry, give up, or it was already used),
// and how the contract's ProviderSlashed outcome is mirrored in the local ledger.
import { accounts, EXTERNAL } from "../ledger/accounts.js";
import type { LedgerEvent } from "../ledger/postings.js";

/** A verifier's EIP-712 verdict as the gateway checked and stored it. */
export interface ChainVerdictEvidence {
  verifierId: string;
  /** the eth address the signature recovers to (the verifier's advertised one) */
  verifierAddress: string;
  valid: boolean;
  issuedAt: number;
  signature: string;
}

export type EvidencePick =
  | { ok: true; verdicts: [ChainVerdictEvidence, ChainVerdictEvidence] }
  | { ok: false; reason: string };

/**
 * Two verdicts against the result from two distinct verifier addresses, neither the provider's
 * (Slashing.slashProvider refuses VerdictNotAgainst, SameVerifier and VerifierIsProvider). The
 * earliest two are taken, so the same audit always yields the same evidence.
 */
export function pickSlashEvidence(verdicts: ChainVerdictEvidence[], providerAddress: string): EvidencePick {
  const provider = providerAddress.toLowerCase();
  const chosen: ChainVerdictEvidence[] = [];
  for (const v of verdicts) {
    const addr = v.verifierAddress.toLowerCase();
    if (v.valid || addr === provider) continue;
    if (chosen.some((c) => c.verifierAddress.toLowerCase() === addr)) continue;
    chosen.push(v);
    if (chosen.length === 2) return { ok: true, verdicts: [chosen[0] as ChainVerdictEvidence, v] };
  }
  return {
    ok: false,
    reason: `${chosen.length} signed verdict(s) against the result from distinct verifiers; 2 needed`,
  };
}

export type ChainSlashStatus = "pending" | "slashed" | "used" | "failed";

export interface ChainSlashState {
  status: ChainSlashStatus;
  /** submissions tried so far */
  attempts: number;
  /** when a pending slash may be tried again (ms) */
  nextAt: number;
  error: string | null;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseMs: 1_000, maxMs: 60_000 };

/** Reverts of Slashing.slashProvider that no retry can change: the evidence itself is refused. */
const REFUSED = new Set([
  "VerdictNotAgainst",
  "VerdictForOtherResult",
  "SameVerifier",
  "VerifierIsProvider",
  "VerifierNotStaked",
  "ProviderNotRegistered",
  "ECDSAInvalidSignature",
  "ECDSAInvalidSignatureLength",
  "ECDSAInvalidSignatureS",
]);

/**
 * After a submission failed. `EvidenceUsed` means the contract already slashed on this evidence
 * (an earlier submission whose receipt was lost, or anyone else who had it): done, never again.
 * A refusal of the evidence is final; anything else (RPC down, no gas yet) is retried with
 * exponential backoff up to `maxAttempts`.
 */
export function afterSubmitFailure(
  s: ChainSlashState,
  revert: string | undefined,
  message: string,
  now: number,
  policy: RetryPolicy = DEFAULT_RETRY,
): ChainSlashState {
  const attempts = s.attempts + 1;
  if (revert === "EvidenceUsed") return { status: "used", attempts, nextAt: now, error: revert };
  if (revert && REFUSED.has(revert)) return { status: "failed", attempts, nextAt: now, error: `${revert}: ${message}` };
  if (attempts >= policy.maxAttempts) return { status: "failed", attempts, nextAt: now, error: message };
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempts - 1));
  return { status: "pending", attempts, nextAt: now + delay, error: message };
}

/** Only a pending slash whose time has come is submitted; every other status is final. */
export function dueForSubmit(s: ChainSlashState, now: number): boolean {
  return s.status === "pending" && s.nextAt <= now;
}

export interface ChainSlashMirror {
  /** `chain:<chainId>:<tx>:<logIndex>` of the ProviderSlashed log: a log seen twice posts once */
  id: string;
  jobId: string;
  consumerId: string;
  /** what the contract paid the consumer's custodial address out of the provider's stake */
  refund: bigint;
  at: number;
}

/**
 * The slash happened on chain: the stake and the verifiers' rewards never were in the local
 * ledger, but the consumer's refund arrived at its custodial address, outside the Escrow
 * contract. The ledger records it as coming in from outside to `consumer:<id>:wallet`, so the
 * invariants hold and the consumer's available balance keeps mirroring its Escrow deposit.
 */
export function chainSlashEvent(m: ChainSlashMirror): LedgerEvent {
  if (m.refund < 0n) throw new RangeError("a refund cannot be negative");
  const transfers = m.refund > 0n ? [{ from: EXTERNAL, to: accounts.wallet(m.consumerId), amount: m.refund }] : [];
  return { id: m.id, kind: "chain_slash", jobId: m.jobId, at: m.at, transfers };
}
