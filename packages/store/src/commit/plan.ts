// Decides a batch in memory: given what the database already holds (claimed idempotency keys,
// applied ledger events, balances), which operations succeed and what rows they write. The
// caller holds the write lock, so deciding first and writing in bulk afterwards is safe.
import {
  type AttemptRecord,
  exceedsSupply,
  firstOverdraft,
  type JobRecord,
  type LedgerEvent,
  type Transfer,
} from "@tessera/core";
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
  sharesBooks: Map<string, NonNullable<WriteOp["sharesBook"]>>;
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
function ledgerError(ev: LedgerEvent, balanceOf: (a: string) => bigint) {
  const { transfers } = ev;
  if (transfers.some((t) => t.amount < 0n)) return new InvalidRequest("a ledger transfer amount must not be negative");
  if (exceedsSupply(balanceOf, transfers))
    return new InvalidRequest(
      "this would bring more than 10^18 nano-credits into the ledger, the most it may hold",
      "amount",
    );
  const account = firstOverdraft(balanceOf, transfers);
  if (account === undefined) return null;
  const needed = -netChange(transfers, account);
  // a job's escrow speaks to the consumer; any other event (an unbond, a claim) names the account
  return ev.kind === "escrow"
    ? new InsufficientBalance(needed, balanceOf(account))
    : new InsufficientBalance(needed, balanceOf(account), `This ${ev.kind} needs`, account);
}

/** Decides the ops in order; each sees the effects of the ones decided before it. */
export function planBatch(ops: WriteOp[], existing: ExistingState): BatchPlan {
  const planner = new Planner(existing);
  const results = ops.map((op) => planner.decide(op));
  return { results, writes: planner.writes };
}

class Planner {
  private readonly claims: Map<string, string>;
  private readonly applied: Set<string>;
  private readonly balances: Map<string, bigint>;
  readonly writes: BatchWrites = {
    claims: [],
    events: [],
    postings: [],
    deltas: new Map(),
    jobs: new Map(),
    attempts: new Map(),
    providers: new Map(),
    sharesBooks: new Map(),
  };

  constructor(existing: ExistingState) {
    this.claims = new Map(existing.claims);
    this.applied = new Set(existing.applied);
    this.balances = new Map(existing.balances);
  }

  private readonly balanceOf = (account: string): bigint => this.balances.get(account) ?? 0n;

  decide(op: WriteOp): OpResult {
    // every check comes before any write, so that a failing op leaves nothing behind
    const idem = op.idempotency;
    if (idem) {
      const holder = this.claims.get(claimKey(idem.consumerId, idem.key));
      // re-claiming for the same job (a replayed op) is not a conflict
      if (holder !== undefined && holder !== idem.jobId) return { ok: false, error: new IdempotencyConflict(idem.key) };
    }
    const ev = op.ledger !== undefined && !this.applied.has(op.ledger.id) ? op.ledger : undefined;
    if (ev) {
      const error = ledgerError(ev, this.balanceOf);
      if (error) return { ok: false, error };
    }

    if (idem) this.claim(idem);
    if (ev) this.post(ev);
    if (op.job) this.writes.jobs.set(op.job.id, op.job);
    if (op.attempt) this.writeAttempt(op.attempt);
    if (op.provider) this.writes.providers.set(op.provider.id, op.provider);
    if (op.sharesBook && ev) this.writes.sharesBooks.set(op.sharesBook.providerId, op.sharesBook);
    return { ok: true, ledgerApplied: ev !== undefined };
  }

  private claim(idem: NonNullable<WriteOp["idempotency"]>): void {
    const k = claimKey(idem.consumerId, idem.key);
    if (this.claims.has(k)) return;
    this.claims.set(k, idem.jobId);
    this.writes.claims.push({ ...idem });
  }

  private post(ev: LedgerEvent): void {
    this.applied.add(ev.id);
    const jobId = ev.jobId ?? null;
    this.writes.events.push({ id: ev.id, kind: ev.kind, jobId, at: ev.at });
    const { deltas, postings } = this.writes;
    for (const t of ev.transfers) {
      if (t.amount === 0n) continue;
      this.balances.set(t.from, this.balanceOf(t.from) - t.amount);
      this.balances.set(t.to, this.balanceOf(t.to) + t.amount);
      deltas.set(t.from, (deltas.get(t.from) ?? 0n) - t.amount);
      deltas.set(t.to, (deltas.get(t.to) ?? 0n) + t.amount);
      postings.push({ eventId: ev.id, kind: ev.kind, jobId, at: ev.at, from: t.from, to: t.to, amount: t.amount });
    }
  }

  private writeAttempt(a: AttemptRecord): void {
    const k = attemptKey(a);
    const earlier = this.writes.attempts.get(k);
    // the upsert's rule inside the batch too: a later write of an attempt only ends it
    this.writes.attempts.set(k, earlier ? { ...earlier, endedAt: a.endedAt, outcome: a.outcome, reason: a.reason } : a);
  }
}
