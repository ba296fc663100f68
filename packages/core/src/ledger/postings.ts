// Posting rules: each ledger event is a set of transfers that all happen in one transaction,
// keyed by the event id so that replaying an event (a retried settle, a restart) changes nothing.
import { feeOf } from "../metering/cost.js";
import { accounts, EXTERNAL, FEES } from "./accounts.js";

export interface Transfer {
  from: string;
  to: string;
  amount: bigint;
}

export type LedgerEventKind =
  | "deposit"
  | "withdraw"
  | "escrow"
  | "settle"
  | "refund"
  // stake and verification (ledger/stake.ts)
  | "stake"
  | "unbond"
  | "release"
  | "slash"
  | "audit_fee"
  // on-chain settlement mirror and node shares (settlement/chain.ts, ledger/shares.ts)
  | "redeem"
  | "chain_slash"
  | "share_distribute"
  | "share_claim";

export interface LedgerEvent {
  id: string;
  kind: LedgerEventKind;
  jobId?: string;
  at: number;
  transfers: Transfer[];
}

export const eventIds = {
  escrow: (jobId: string) => `job:${jobId}:escrow`,
  settle: (jobId: string) => `job:${jobId}:settle`,
  refund: (jobId: string) => `job:${jobId}:refund`,
};

function nonZero(transfers: Transfer[]): Transfer[] {
  for (const t of transfers) if (t.amount < 0n) throw new RangeError(`negative transfer ${t.from} -> ${t.to}`);
  return transfers.filter((t) => t.amount > 0n);
}

export function depositEvent(id: string, consumerId: string, amount: bigint, at: number): LedgerEvent {
  if (amount <= 0n) throw new RangeError("a deposit must be positive");
  return { id, kind: "deposit", at, transfers: [{ from: EXTERNAL, to: accounts.available(consumerId), amount }] };
}

export function withdrawEvent(id: string, consumerId: string, amount: bigint, at: number): LedgerEvent {
  if (amount <= 0n) throw new RangeError("a withdrawal must be positive");
  return { id, kind: "withdraw", at, transfers: [{ from: accounts.available(consumerId), to: EXTERNAL, amount }] };
}

export function escrowEvent(jobId: string, consumerId: string, amount: bigint, at: number): LedgerEvent {
  return {
    id: eventIds.escrow(jobId),
    kind: "escrow",
    jobId,
    at,
    transfers: nonZero([{ from: accounts.available(consumerId), to: accounts.escrow(consumerId), amount }]),
  };
}

export interface SettleInput {
  jobId: string;
  consumerId: string;
  providerId: string;
  escrowed: bigint;
  cost: bigint;
  feeBps: number;
  at: number;
}

/** Pays the provider its cost less the fee, takes the fee, returns the unused escrow. */
export function settleEvent(s: SettleInput): LedgerEvent {
  const cost = s.cost < s.escrowed ? s.cost : s.escrowed;
  const fee = feeOf(cost, s.feeBps);
  const escrow = accounts.escrow(s.consumerId);
  return {
    id: eventIds.settle(s.jobId),
    kind: "settle",
    jobId: s.jobId,
    at: s.at,
    transfers: nonZero([
      { from: escrow, to: accounts.earnings(s.providerId), amount: cost - fee },
      { from: escrow, to: FEES, amount: fee },
      { from: escrow, to: accounts.available(s.consumerId), amount: s.escrowed - cost },
    ]),
  };
}

export function refundEvent(jobId: string, consumerId: string, escrowed: bigint, at: number): LedgerEvent {
  return {
    id: eventIds.refund(jobId),
    kind: "refund",
    jobId,
    at,
    transfers: nonZero([{ from: accounts.escrow(consumerId), to: accounts.available(consumerId), amount: escrowed }]),
  };
}

/** Applies an event's transfers to balances; the caller checks invariants and idempotency. */
export function applyTransfers(balances: Map<string, bigint>, transfers: Transfer[]): void {
  for (const t of transfers) {
    balances.set(t.from, (balances.get(t.from) ?? 0n) - t.amount);
    balances.set(t.to, (balances.get(t.to) ?? 0n) + t.amount);
  }
}
