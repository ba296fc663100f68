// The ledger invariants from DESIGN.md, as a pure check over balances: money is never created
// or lost (internal accounts sum to what came in from outside) and no internal balance is negative.
import { MAX_SUPPLY } from "@tessera/protocol";
import { EXTERNAL } from "./accounts.js";

export interface InvariantReport {
  ok: boolean;
  /** net amount that entered from outside (deposits less withdrawals) */
  netDeposited: bigint;
  /** sum of every internal account */
  internalTotal: bigint;
  negativeAccounts: string[];
  problems: string[];
}

export function checkInvariants(balances: Map<string, bigint> | Iterable<[string, bigint]>): InvariantReport {
  let internalTotal = 0n;
  let netDeposited = 0n;
  const negativeAccounts: string[] = [];
  for (const [account, balance] of balances) {
    if (account === EXTERNAL) {
      netDeposited = -balance;
      continue;
    }
    internalTotal += balance;
    if (balance < 0n) negativeAccounts.push(account);
  }
  const problems: string[] = [];
  if (internalTotal !== netDeposited)
    problems.push(`internal accounts hold ${internalTotal} nc but ${netDeposited} nc came in from outside`);
  for (const a of negativeAccounts) problems.push(`account ${a} is negative`);
  return { ok: problems.length === 0, netDeposited, internalTotal, negativeAccounts, problems };
}

/** Would applying these transfers leave any internal account negative? Returns the first such account. */
export function firstOverdraft(
  balanceOf: (account: string) => bigint,
  transfers: { from: string; to: string; amount: bigint }[],
): string | undefined {
  const delta = new Map<string, bigint>();
  for (const t of transfers) {
    delta.set(t.from, (delta.get(t.from) ?? 0n) - t.amount);
    delta.set(t.to, (delta.get(t.to) ?? 0n) + t.amount);
  }
  for (const [account, d] of delta) if (account !== EXTERNAL && balanceOf(account) + d < 0n) return account;
  return undefined;
}

/**
 * Would these transfers bring more than MAX_SUPPLY into the ledger? Everything inside came from
 * the external account, so bounding what it has sent bounds every balance and every sum of them.
 */
export function exceedsSupply(
  balanceOf: (account: string) => bigint,
  transfers: { from: string; to: string; amount: bigint }[],
): boolean {
  let external = balanceOf(EXTERNAL);
  for (const t of transfers) {
    if (t.from === EXTERNAL) external -= t.amount;
    if (t.to === EXTERNAL) external += t.amount;
  }
  return -external > MAX_SUPPLY;
}
