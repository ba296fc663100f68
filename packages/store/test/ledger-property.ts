// Property: random deposits, submits (escrow), completions (settle), failures and cancels
// (refund), replays of applied events and restarts, committed in random batches, keep the
// ledger's invariants after every step and match a model that charges each job exactly once.
import {
  accounts,
  applyTransfers,
  cancel,
  checkInvariants,
  complete,
  depositEvent,
  EXTERNAL,
  escrowEvent,
  FEES,
  failPermanently,
  type JobRecord,
  type LedgerEvent,
  lease,
} from "@tessera/core";
import fc from "fast-check";
import { expect } from "vitest";
import { type OpResult, openStore, type Store, type WriteOp } from "../src/index.js";
import { makeJob } from "./fixtures.js";

// Large enough to pass 2^32; small enough that 20 runs of up to 80 deposits sharing one database
// stay under the ledger's supply cap of 10^18 (amounts past 2^53 are contract-commit.ts's test).
const amount = fc.bigInt({ min: 1n, max: 2n ** 49n });
const action = fc.oneof(
  fc.record({ t: fc.constant("deposit" as const), c: fc.nat(2), amount }),
  fc.record({ t: fc.constant("submit" as const), c: fc.nat(2), escrow: amount, key: fc.option(fc.nat(3)) }),
  fc.record({
    t: fc.constant("complete" as const),
    j: fc.nat(),
    units: fc.nat(1_000_000),
    price: fc.integer({ min: 0, max: 1_000_000_000 }),
    feeBps: fc.nat(10_000),
  }),
  fc.record({ t: fc.constant("refund" as const), j: fc.nat(), cancel: fc.boolean() }),
  fc.record({ t: fc.constant("replay" as const), e: fc.nat() }),
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;
const step = fc.oneof(
  { weight: 1, arbitrary: fc.constant("restart" as const) },
  { weight: 8, arbitrary: fc.array(action, { minLength: 1, maxLength: 4 }) },
);

/** What the store should answer: the model runs the same rules independently of it. */
class Model {
  balances = new Map<string, bigint>();
  claims = new Map<string, string>();
  applied: LedgerEvent[] = [];
  appliedIds = new Set<string>();
  jobs = new Map<string, JobRecord>();
  spent = new Map<string, bigint>();
  private n = 0;

  constructor(readonly run: string) {}

  id(kind: string): string {
    return `${this.run}-${kind}${this.n++}`;
  }
  consumer(c: number): string {
    return `${this.run}-c${c}`;
  }
  balance(a: string): bigint {
    return this.balances.get(a) ?? 0n;
  }

  /** Builds the op for an action and predicts its result, updating the model as the store should. */
  next(a: Action, now: number): { ops: WriteOp[]; expected: OpResult[] } | null {
    switch (a.t) {
      case "deposit": {
        const ev = depositEvent(this.id("d"), this.consumer(a.c), a.amount, now);
        return { ops: [{ ledger: ev }], expected: [this.apply(ev)] };
      }
      case "submit": {
        const consumerId = this.consumer(a.c);
        const key = a.key === null ? null : `k${a.key}`;
        const job = makeJob(this.id("j"), { consumerId, escrow: a.escrow, idempotencyKey: key, createdAt: now });
        const ev = escrowEvent(job.id, consumerId, job.escrow, now);
        const op: WriteOp = { job, ledger: ev, idempotency: key ? { consumerId, key, jobId: job.id } : undefined };
        const claim = `${consumerId}/${key}`;
        if (key && this.claims.has(claim))
          return {
            ops: [op],
            expected: [{ ok: false, error: expect.objectContaining({ code: "idempotency_conflict" }) }],
          };
        if (this.balance(accounts.available(consumerId)) < job.escrow)
          return {
            ops: [op],
            expected: [{ ok: false, error: expect.objectContaining({ code: "insufficient_balance" }) }],
          };
        if (key) this.claims.set(claim, job.id);
        this.jobs.set(job.id, job);
        return { ops: [op], expected: [this.apply(ev)] };
      }
      case "complete": {
        const job = this.pickQueued(a.j);
        if (!job) return null;
        const leased = lease(job, `${this.run}-p${a.j % 2}`, a.price, now, 10_000);
        const done = complete(leased.job, {
          output: { text: "ok", tokens: [1], logprobs: [-0.5], finishReason: "stop" },
          outputHash: "ee".repeat(32),
          units: { inputTokens: 1, outputTokens: 1, standardUnits: a.units },
          signature: "sig",
          feeBps: a.feeBps,
          now: now + 1,
        });
        const ev = done.ledger;
        if (!ev || done.job.cost === null) throw new Error("complete must settle");
        expect(done.job.cost <= job.escrow).toBe(true);
        this.jobs.set(job.id, done.job);
        this.spent.set(job.consumerId, (this.spent.get(job.consumerId) ?? 0n) + done.job.cost);
        // lease and completion in one batch: the attempt is inserted, then ended
        return {
          ops: [leased, { job: done.job, ledger: ev, attempt: done.attempt }],
          expected: [{ ok: true, ledgerApplied: false }, this.apply(ev)],
        };
      }
      case "refund": {
        const job = this.pickQueued(a.j);
        if (!job) return null;
        const t = a.cancel ? cancel(job, now) : failPermanently(job, "bad input", now);
        if (!t.ledger) throw new Error("a refund must move money");
        this.jobs.set(job.id, t.job);
        return { ops: [{ job: t.job, ledger: t.ledger }], expected: [this.apply(t.ledger)] };
      }
      case "replay": {
        const ev = this.applied[a.e % Math.max(1, this.applied.length)];
        if (!ev) return null;
        return { ops: [{ ledger: ev }], expected: [{ ok: true, ledgerApplied: false }] };
      }
    }
  }

  private pickQueued(j: number): JobRecord | undefined {
    const queued = [...this.jobs.values()].filter((x) => x.status === "queued");
    return queued[j % Math.max(1, queued.length)];
  }

  private apply(ev: LedgerEvent): OpResult {
    if (this.appliedIds.has(ev.id)) return { ok: true, ledgerApplied: false };
    this.appliedIds.add(ev.id);
    this.applied.push(ev);
    applyTransfers(this.balances, ev.transfers);
    return { ok: true, ledgerApplied: true };
  }
}

export interface PropertyTarget {
  /** a database location for one property run; may be shared between runs */
  location(): Promise<string>;
  numRuns: number;
}

export async function checkLedgerProperty(target: PropertyTarget): Promise<void> {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
      const model = new Model(`r${runs++}`);
      const location = await target.location();
      let store: Store = await openStore(location);
      try {
        // the location may hold earlier runs: compare shared accounts by how much they moved
        const start = await store.balances();
        let now = 1_000;
        for (const s of steps) {
          if (s === "restart") {
            await store.close();
            store = await openStore(location);
            continue;
          }
          const ops: WriteOp[] = [];
          const expected: OpResult[] = [];
          for (const a of s) {
            now += 10;
            const built = model.next(a, now);
            if (!built) continue;
            ops.push(...built.ops);
            expected.push(...built.expected);
          }
          expect(await store.commit(ops)).toEqual(expected);

          const balances = await store.balances();
          const report = checkInvariants(balances);
          expect(report.problems).toEqual([]);
          for (const [account, value] of model.balances) {
            const base = account === EXTERNAL || account === FEES ? (start.get(account) ?? 0n) : 0n;
            expect({ account, balance: (balances.get(account) ?? 0n) - base }).toEqual({ account, balance: value });
          }
          for (const c of [0, 1, 2].map((i) => model.consumer(i)))
            expect(await store.spent(c)).toBe(model.spent.get(c) ?? 0n);
        }
        for (const job of model.jobs.values()) expect(await store.getJob(job.id)).toEqual(job);
      } finally {
        await store.close();
      }
    }),
    { numRuns: target.numRuns },
  );
}
