// Decisions of the on-chain settlement backend, kept pure: how much a consumer may still commit
// against its Escrow deposit, when a new cumulative voucher is due, and how a provider's on-chain
// redemption is mirrored in the local ledger (the gateway's book of record).
import { accounts, EXTERNAL, FEES } from "../ledger/accounts.js";
import type { LedgerEvent } from "../ledger/postings.js";

export interface ChainPosition {
  /** the consumer's balance in the Escrow contract now */
  deposit: bigint;
  /** gross cost of every job of this consumer the gateway has settled (what vouchers may claim) */
  settled: bigint;
  /** what providers have already redeemed from this consumer on chain (sum over providers) */
  redeemed: bigint;
  /** escrowed for the consumer's jobs still queued or running */
  openEscrow: bigint;
  /** requested from the Escrow contract and not yet withdrawn (custodial withdrawals): no longer spendable */
  pendingWithdrawal?: bigint;
}

/**
 * What the consumer can still commit to new jobs: its deposit less what it already owes —
 * settled but unredeemed (vouchers signed or about to be), held for open jobs, and asked back in
 * a withdrawal that has not completed yet. Negative
 * when a withdrawal on chain has taken money the gateway already promised to providers.
 */
export function chainHeadroom(p: ChainPosition): bigint {
  const unredeemed = p.settled > p.redeemed ? p.settled - p.redeemed : 0n;
  return p.deposit - unredeemed - p.openEscrow - (p.pendingWithdrawal ?? 0n);
}

/** A voucher is due when the pair's settled total has grown past the latest one signed. */
export function voucherDue(latestSigned: bigint | undefined, settledGross: bigint): boolean {
  return settledGross > (latestSigned ?? 0n);
}

/** A signed voucher as the gateway recorded it: the gross total and the provider's local net. */
export interface VoucherPoint {
  cumulative: bigint;
  /** what the local ledger credited the provider for the same jobs (gross less per-job fees) */
  net: bigint;
}

export interface RedemptionInput {
  /** `chain:<chainId>:<txHash>:<logIndex>`: a log seen twice posts once */
  id: string;
  providerId: string;
  /** the voucher redeemed now, and the one redeemed before it (zero when none) */
  voucher: VoucherPoint;
  previous: VoucherPoint;
  at: number;
}

/**
 * Tokens left the Escrow contract: the provider collected its net and the fee recipient the fee.
 * The local ledger moves the same gross out of the provider's earnings and the fee account,
 * split exactly as it was credited at settle time, so after the last voucher is redeemed the
 * provider's local earnings are zero. (The contract rounds its fee once over the sum, the ledger
 * per job; the difference of at most one nano-credit per job is the contract's to keep.)
 */
export function redemptionEvent(r: RedemptionInput): LedgerEvent {
  const gross = r.voucher.cumulative - r.previous.cumulative;
  const net = r.voucher.net - r.previous.net;
  if (gross < 0n || net < 0n || net > gross) throw new RangeError("a redemption must move forward and net <= gross");
  const transfers = [
    { from: accounts.earnings(r.providerId), to: EXTERNAL, amount: net },
    { from: FEES, to: EXTERNAL, amount: gross - net },
  ].filter((t) => t.amount > 0n);
  return { id: r.id, kind: "redeem", at: r.at, transfers };
}

/**
 * A verifier's audit fee under on-chain settlement. The ledger's protocol:fees mirrors fees the
 * Escrow contract has yet to pay the fee recipient, and each redemption debits it by the full fee
 * of the jobs redeemed; paying audit fees out of it would leave a later redemption's mirror short.
 * So the operator pays them from outside the ledger (the fee income it collects on chain), as a
 * deposit of the operator into the verifier's earnings.
 */
export function chainAuditFeeEvent(
  id: string,
  jobId: string,
  verifierId: string,
  amount: bigint,
  at: number,
): LedgerEvent {
  const transfers = amount > 0n ? [{ from: EXTERNAL, to: accounts.earnings(verifierId), amount }] : [];
  return { id, kind: "audit_fee", jobId, at, transfers };
}

/** The id under which a chain log is mirrored, so replays and rescans post once. */
export function chainEventId(chainId: number, txHash: string, logIndex: number): string {
  return `chain:${chainId}:${txHash.toLowerCase()}:${logIndex}`;
}
