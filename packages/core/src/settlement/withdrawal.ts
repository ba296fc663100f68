// Decisions of a consumer's withdrawal through its custodian (the gateway holds the custodial
// key): what may be withdrawn, and the next step of a withdrawal in flight. The Escrow contract
// makes it two steps — requestWithdrawal, then withdraw after its delay — and the tokens then go
// from the custodial address to the address the consumer named.
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
