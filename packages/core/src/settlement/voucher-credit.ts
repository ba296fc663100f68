// Non-custodial consumers sign their own vouchers, so settled work can sit unsigned for a while.
// These rules bound that exposure: what is due per provider, and whether a new job may start
// while part of the consumer's settled work is still unsigned.

/** One consumer–provider pair: what the gateway settled and the latest voucher the consumer signed. */
export interface PairDue {
  /** gross cost of the pair's completed jobs (the cumulative the next voucher must carry) */
  settled: bigint;
  /** cumulative of the latest voucher the consumer signed for this provider (0 when none) */
  signed: bigint;
}

/** Settled work the consumer has not yet covered with a voucher, summed over providers. */
export function unsignedTotal(pairs: readonly PairDue[]): bigint {
  return pairs.reduce((s, p) => s + (p.settled > p.signed ? p.settled - p.signed : 0n), 0n);
}

export interface CreditInput {
  /** settled work not covered by a signed voucher (unsignedTotal) */
  unsigned: bigint;
  /** escrowed for the consumer's jobs still queued or running: it may all settle unsigned */
  openEscrow: bigint;
  /** the new job's escrow */
  amount: bigint;
  /** the most a consumer may ever owe providers without a voucher (--voucher-credit) */
  limit: bigint;
}

export type CreditDecision = { ok: true } | { ok: false; exposure: bigint; reason: "unsigned" | "too_large" };

/**
 * Admits a job only if everything that could end up settled but unsigned — what already is, what
 * open jobs may settle, and this job — stays within the limit. Open escrow counts because every
 * open job can settle before the consumer signs again, so the bound holds however many run at once.
 */
export function voucherCredit(c: CreditInput): CreditDecision {
  const exposure = c.unsigned + c.openEscrow + c.amount;
  if (exposure <= c.limit) return { ok: true };
  // a job that could never fit, even with every voucher signed and nothing open
  return { ok: false, exposure, reason: c.amount > c.limit ? "too_large" : "unsigned" };
}

/**
 * A voucher the consumer submits must carry exactly what is due: less would leave settled work
 * unpaid, more would let a provider redeem work that never settled, and one already signed is a replay.
 */
export function voucherCheck(
  due: PairDue,
  cumulative: bigint,
): { ok: true } | { ok: false; reason: "nothing_due" | "wrong_amount" } {
  if (due.settled <= due.signed) return { ok: false, reason: "nothing_due" };
  if (cumulative !== due.settled) return { ok: false, reason: "wrong_amount" };
  return { ok: true };
}
