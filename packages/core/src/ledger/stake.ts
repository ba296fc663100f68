// Stake, slashing and audit fees on the local ledger. Stake is deposited from outside into
// provider:<id>:stake; unbonding moves it to provider:<id>:unbonding where it waits out the
// unbonding period and can still be slashed; release pays it back out. A slash refunds the
// consumer, rewards the verifiers who caught it, and burns the rest into `burned`, an internal
// account, so the ledger still sums to what came in from outside.
import { EXTERNAL, FEES } from "./accounts.js";
import type { LedgerEvent, Transfer } from "./postings.js";

export const BURNED = "burned";

export const stakeAccounts = {
  stake: (providerId: string) => `provider:${providerId}:stake`,
  unbonding: (providerId: string) => `provider:${providerId}:unbonding`,
  earnings: (nodeId: string) => `provider:${nodeId}:earnings`,
  available: (consumerId: string) => `consumer:${consumerId}:available`,
} as const;

function positive(transfers: Transfer[]): Transfer[] {
  for (const t of transfers) if (t.amount < 0n) throw new RangeError(`negative transfer ${t.from} -> ${t.to}`);
  return transfers.filter((t) => t.amount > 0n);
}

export function stakeDepositEvent(id: string, providerId: string, amount: bigint, at: number): LedgerEvent {
  if (amount <= 0n) throw new RangeError("a stake deposit must be positive");
  return { id, kind: "stake", at, transfers: [{ from: EXTERNAL, to: stakeAccounts.stake(providerId), amount }] };
}

export function unbondEvent(id: string, providerId: string, amount: bigint, at: number): LedgerEvent {
  if (amount <= 0n) throw new RangeError("an unbonding amount must be positive");
  return {
    id,
    kind: "unbond",
    at,
    transfers: [{ from: stakeAccounts.stake(providerId), to: stakeAccounts.unbonding(providerId), amount }],
  };
}

/**
 * Whether an unbonding may be paid out: its delay has passed and no audit of the provider's
 * results is still undecided. An audit parked for want of a verifier can outlast the delay; paying
 * out first would let a provider unbond right after a cheated result and leave the slash nothing.
 */
export function unbondingReleasable(releaseAt: number, now: number, undecidedAudits: number): boolean {
  return releaseAt <= now && undecidedAudits === 0;
}

export function releaseEvent(id: string, providerId: string, amount: bigint, at: number): LedgerEvent {
  return {
    id,
    kind: "release",
    at,
    transfers: positive([{ from: stakeAccounts.unbonding(providerId), to: EXTERNAL, amount }]),
  };
}

export interface SlashInput {
  jobId: string;
  providerId: string;
  consumerId: string;
  /** what the consumer paid for the job: refunded first */
  cost: bigint;
  /** taken from stake, then from unbonding */
  amount: bigint;
  staked: bigint;
  unbonding: bigint;
  /** verifiers whose verdicts caught it, sharing rewardBps of what remains after the refund */
  reporters: string[];
  rewardBps: number;
  at: number;
}

/** Splits a slash: refund (≤ cost), reporter rewards, the rest burned. Takes stake before unbonding. */
export function slashEvent(s: SlashInput): LedgerEvent {
  const available = s.staked + s.unbonding;
  const amount = s.amount < available ? s.amount : available;
  const fromStake = amount < s.staked ? amount : s.staked;
  const fromUnbonding = amount - fromStake;
  const refund = s.cost < amount ? s.cost : amount;
  const pool = ((amount - refund) * BigInt(s.rewardBps)) / 10_000n;
  const each = s.reporters.length > 0 ? pool / BigInt(s.reporters.length) : 0n;
  const burned = amount - refund - each * BigInt(s.reporters.length);
  // one hop through the stake account keeps every leg a plain transfer from a named account
  const transfers: Transfer[] = [
    { from: stakeAccounts.unbonding(s.providerId), to: stakeAccounts.stake(s.providerId), amount: fromUnbonding },
    { from: stakeAccounts.stake(s.providerId), to: stakeAccounts.available(s.consumerId), amount: refund },
    ...s.reporters.map((r) => ({
      from: stakeAccounts.stake(s.providerId),
      to: stakeAccounts.earnings(r),
      amount: each,
    })),
    { from: stakeAccounts.stake(s.providerId), to: BURNED, amount: burned },
  ];
  return { id: `job:${s.jobId}:slash`, kind: "slash", jobId: s.jobId, at: s.at, transfers: positive(transfers) };
}

export interface VerifierSlashInput {
  /** the canary audit whose known answer the verdict contradicted: one slash per audit */
  auditId: string;
  jobId: string;
  verifierId: string;
  amount: bigint;
  staked: bigint;
  unbonding: bigint;
  at: number;
}

/**
 * Burns stake of a verifier a canary audit caught (it passed a known-wrong result or failed a
 * known-good one), stake before unbonding, as the Slashing contract's slashVerifier does on chain.
 * Nobody is rewarded: no consumer paid for the verdict and no reporter found it.
 */
export function verifierSlashEvent(s: VerifierSlashInput): LedgerEvent {
  const available = s.staked + s.unbonding;
  const amount = s.amount < available ? s.amount : available;
  const fromUnbonding = amount > s.staked ? amount - s.staked : 0n;
  return {
    id: `audit:${s.auditId}:verifier-slash`,
    kind: "slash",
    jobId: s.jobId,
    at: s.at,
    transfers: positive([
      { from: stakeAccounts.unbonding(s.verifierId), to: stakeAccounts.stake(s.verifierId), amount: fromUnbonding },
      { from: stakeAccounts.stake(s.verifierId), to: BURNED, amount },
    ]),
  };
}

/** A verifier's fee for one verdict, paid out of protocol fees. */
export function auditFeeEvent(id: string, jobId: string, verifierId: string, amount: bigint, at: number): LedgerEvent {
  return {
    id,
    kind: "audit_fee",
    jobId,
    at,
    transfers: positive([{ from: FEES, to: stakeAccounts.earnings(verifierId), amount }]),
  };
}
