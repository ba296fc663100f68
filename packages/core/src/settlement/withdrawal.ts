// Decisions of a consumer's withdrawal through its custodian (the gateway holds the custodial
// key): what may be withdrawn, and the next step of a withdrawal in flight. The Escrow contract
// makes it two steps — requestWithdrawal, then withdraw after its delay — and the tokens then go
// from the custodial address to the address the consumer named.
import { accounts, EXTERNAL } from "../ledger/accounts.js";
import type { LedgerEvent } from "../ledger/postings.js";

export type WithdrawalStatus = "requested" | "withdrawn" | "paid" | "failed";

export interface WithdrawalProgress {
  status: WithdrawalStatus;
  /** chain time (seconds) from which Escrow.withdraw may be called */
  readyAt: number;
}

/**
 * Why a withdrawal cannot be requested, or undefined. Only headroom can leave: what is owed to
 * providers (settled, unredeemed) and held for open jobs stays, so vouchers remain redeemable.
 * One at a time, since the contract replaces a pending request with a new one.
 */
export function withdrawalRefusal(amount: bigint, headroom: bigint, inFlight: boolean): string | undefined {
  if (amount <= 0n) return "the amount must be positive";
  if (inFlight) return "a withdrawal is already in progress";
  if (amount > headroom) return `only ${headroom > 0n ? headroom : 0n} nano-credits can be withdrawn now`;
  return undefined;
}

export type WithdrawalStep = "wait" | "withdraw" | "transfer" | "done";

/** What to do next, given the chain's latest block time in seconds. */
export function nextWithdrawalStep(w: WithdrawalProgress, chainTime: number): WithdrawalStep {
  if (w.status === "requested") return chainTime >= w.readyAt ? "withdraw" : "wait";
  if (w.status === "withdrawn") return "transfer";
  return "done";
}

/**
 * Where a custodial withdrawal's amount waits from the moment it is asked for until the Escrow
 * contract pays it: out of `available`, so a job escrowed meanwhile cannot count it (the ledger
 * refuses the overdraft), and a withdrawal cannot take what a job escrowed first holds.
 */
export const withdrawingAccount = (consumerId: string) => `consumer:${consumerId}:withdrawing`;

/** Sets a requested withdrawal's amount aside, before the request is sent on chain. */
export function withdrawalReserveEvent(
  withdrawalId: string,
  consumerId: string,
  amount: bigint,
  at: number,
): LedgerEvent {
  return {
    id: `withdrawal:${withdrawalId}:reserve`,
    kind: "withdraw",
    at,
    transfers: [{ from: accounts.available(consumerId), to: withdrawingAccount(consumerId), amount }],
  };
}

/** Gives back what a withdrawal set aside and will not take: all of it when the request failed, else what was not paid. */
export function withdrawalReleaseEvent(
  withdrawalId: string,
  consumerId: string,
  amount: bigint,
  at: number,
): LedgerEvent {
  const transfers =
    amount > 0n ? [{ from: withdrawingAccount(consumerId), to: accounts.available(consumerId), amount }] : [];
  return { id: `withdrawal:${withdrawalId}:release`, kind: "withdraw", at, transfers };
}

/**
 * A Withdrawn log: the paid amount leaves from what was set aside for it; a withdrawal requested
 * before amounts were set aside (or otherwise not reserved) takes the rest from `available`.
 */
export function withdrawnEvent(
  id: string,
  consumerId: string,
  amount: bigint,
  reserved: bigint,
  at: number,
): LedgerEvent {
  const fromReserve = amount < reserved ? amount : reserved > 0n ? reserved : 0n;
  const transfers = [
    { from: withdrawingAccount(consumerId), to: EXTERNAL, amount: fromReserve },
    { from: accounts.available(consumerId), to: EXTERNAL, amount: amount - fromReserve },
  ].filter((t) => t.amount > 0n);
  return { id, kind: "withdraw", at, transfers };
}
