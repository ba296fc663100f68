// Decides a batch in memory: given what the database already holds (claimed idempotency keys,
// applied ledger events, balances), which operations succeed and what rows they write. The
// caller holds the write lock, so deciding first and writing in bulk afterwards is safe.
import { type AttemptRecord, type JobRecord, type Transfer, firstOverdraft } from "@tessera/core";
import { IdempotencyConflict, InsufficientBalance, InvalidRequest } from "@tessera/protocol";
import type { OpResult, ProviderRecord, WriteOp } from "../types.js";

export interface ExistingState {
  /** claimKey(consumerId, key) -> job id */
  claims: Map<string, string>;
  /** ids of ledger events already applied */
  applied: Set<string>;
  /** balances of (at least) every account the batch's new events touch; absent means 0 */
  balances: Map<string, bigint>;
}

export interface PostingRow {
  eventId: string;
  kind: string;
  jobId: string | null;
  at: number;
  from: string;
  to: string;
  amount: bigint;
}

export interface BatchWrites {
  claims: { consumerId: string; key: string; jobId: string }[];
  events: { id: string; kind: string; jobId: string | null; at: number }[];
  postings: PostingRow[];
  /** net change per account over the batch */
  deltas: Map<string, bigint>;
  /** last write per job id wins */
  jobs: Map<string, JobRecord>;
  attempts: Map<string, AttemptRecord>;
  providers: Map<string, ProviderRecord>;
}

export interface BatchPlan {
  results: OpResult[];
  writes: BatchWrites;
}

export function claimKey(consumerId: string, key: string): string {
  return `${consumerId}\u0000${key}`;
}

export function attemptKey(a: Pick<AttemptRecord, "jobId" | "attempt">): string {
  return `${a.jobId}\u0000${a.attempt}`;
}

/** Accounts whose balances the planner may need: those named by events not known to be applied. */
export function accountsTouched(ops: WriteOp[], applied: Set<string>): Set<string> {
  const names = new Set<string>();
  for (const op of ops) {
    if (!op.ledger || applied.has(op.ledger.id)) continue;
    for (const t of op.ledger.transfers) {
      names.add(t.from);
      names.add(t.to);
    }
  }
  return names;
}

function netChange(transfers: Transfer[], account: string): bigint {
  let d = 0n;
  for (const t of transfers) {
    if (t.from === account) d -= t.amount;
    if (t.to === account) d += t.amount;
  }
  return d;
}

/** Why the op's ledger event cannot be applied now, or null when it can. */
function ledgerError(transfers: Transfer[], balanceOf: (a: string) => bigint) {
  if (transfers.some((t) => t.amount < 0n)) return new InvalidRequest("a ledger transfer amount must not be negative");
  const account = firstOverdraft(balanceOf, transfers);
  if (account === undefined) return null;
  return new InsufficientBalance(-netChange(transfers, account), balanceOf(account));
}

export function planBatch(ops: WriteOp[], existing: ExistingState): BatchPlan {
  const claims = new Map(existing.claims);
  const applied = new Set(existing.applied);
  const balances = new Map(existing.balances);
  const balanceOf = (a: string) => balances.get(a) ?? 0n;
  const writes: BatchWrites = {
    claims: [],
    events: [],
    postings: [],
    deltas: new Map(),
    jobs: new Map(),
    attempts: new Map(),
    providers: new Map(),
  };
  const results: OpResult[] = [];

  for (const op of ops) {
    // checks first, so that a failing op leaves nothing behind
    const idem = op.idempotency;
    const ck = idem ? claimKey(idem.consumerId, idem.key) : null;
    if (idem && ck !== null) {
      const holder = claims.get(ck);
      // re-claiming for the same job (a replayed op) is not a conflict
      if (holder !== undefined && holder !== idem.jobId) {
        results.push({ ok: false, error: new IdempotencyConflict(idem.key) });
        continue;
      }
    }
    const ev = op.ledger;
    const apply = ev !== undefined && !applied.has(ev.id);
    if (ev && apply) {
      const error = ledgerError(ev.transfers, balanceOf);
      if (error) {
        results.push({ ok: false, error });
        continue;
      }
    }

    if (idem && ck !== null && !claims.has(ck)) {
      claims.set(ck, idem.jobId);
      writes.claims.push({ ...idem });
    }
    if (ev && apply) {
      applied.add(ev.id);
      const jobId = ev.jobId ?? null;
      writes.events.push({ id: ev.id, kind: ev.kind, jobId, at: ev.at });
      for (const t of ev.transfers) {
        if (t.amount === 0n) continue;
        balances.set(t.from, balanceOf(t.from) - t.amount);
        balances.set(t.to, balanceOf(t.to) + t.amount);
        writes.deltas.set(t.from, (writes.deltas.get(t.from) ?? 0n) - t.amount);
        writes.deltas.set(t.to, (writes.deltas.get(t.to) ?? 0n) + t.amount);
        writes.postings.push({ eventId: ev.id, kind: ev.kind, jobId, at: ev.at, from: t.from, to: t.to, amount: t.amount });
      }
    }
    if (op.job) writes.jobs.set(op.job.id, op.job);
    if (op.attempt) {
      const k = attemptKey(op.attempt);
      const earlier = writes.attempts.get(k);
      // same rule as the upsert: a later write of an attempt only ends it
      writes.attempts.set(
        k,
        earlier
          ? { ...earlier, endedAt: op.attempt.endedAt, outcome: op.attempt.outcome, reason: op.attempt.reason }
          : op.attempt,
      );
    }
    if (op.provider) writes.providers.set(op.provider.id, op.provider);
    results.push({ ok: true, ledgerApplied: apply });
  }
  return { results, writes };
}
