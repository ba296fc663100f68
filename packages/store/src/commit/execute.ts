// Group commit: one transaction per batch holding the store's write lock, three bulk reads
// (claimed keys, applied events, balances), the in-memory decision of planBatch, then one
// multi-row statement per table. Round trips per batch stay constant as the batch grows.
import { type Kysely, sql } from "kysely";
import { pgText } from "../dialects/postgres.js";
import type { Dialect } from "../migrations.js";
import { attemptToRow, jobToRow, money, providerToRow } from "../rows.js";
import type { Database } from "../schema.js";
import { upsertSharesBook } from "../settlement.js";
import type { OpResult, WriteOp } from "../types.js";
import { accountsTouched, type BatchWrites, claimKey, type ExistingState, planBatch } from "./plan.js";

/** Bound parameters per statement: well under SQLite's 32766 and PostgreSQL's 65535. */
const MAX_PARAMS = 10_000;
/** Serialises ledger writers across gateway replicas sharing one PostgreSQL database. */
const PG_COMMIT_LOCK = 0x7e55e7a;

function chunks<T>(items: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function commitBatch(db: Kysely<Database>, dialect: Dialect, ops: WriteOp[]): Promise<OpResult[]> {
  if (ops.length === 0) return [];
  if (dialect === "postgres") ops = ops.map(keyAsStored);
  return db.connection().execute(async (conn) => {
    // SQLite: take the write lock up front so a reader's snapshot is never upgraded mid-batch
    await sql`${sql.raw(dialect === "sqlite" ? "begin immediate" : "begin")}`.execute(conn);
    try {
      if (dialect === "postgres") await sql`select pg_advisory_xact_lock(${PG_COMMIT_LOCK})`.execute(conn);
      const { results, writes } = planBatch(ops, await loadExisting(conn, ops));
      await write(conn, writes);
      await sql`commit`.execute(conn);
      return results;
    } catch (e) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw e;
    }
  });
}

/**
 * The op with its idempotency key as PostgreSQL stores it (U+0000 as U+FFFD, dialects/postgres.ts):
 * the plan matches keys read back from the table against the ops' own, and a consumer chooses the
 * key, so a retry of a key holding U+0000 must find its first claim instead of colliding with it.
 */
function keyAsStored(op: WriteOp): WriteOp {
  const idem = op.idempotency;
  if (!idem || pgText(idem.key) === idem.key) return op;
  return { ...op, idempotency: { ...idem, key: pgText(idem.key) } };
}

async function loadExisting(db: Kysely<Database>, ops: WriteOp[]): Promise<ExistingState> {
  const claims = new Map<string, string>();
  const wanted = new Set<string>();
  const pairs: { consumerId: string; key: string }[] = [];
  for (const op of ops) {
    const i = op.idempotency;
    if (!i || wanted.has(claimKey(i.consumerId, i.key))) continue;
    wanted.add(claimKey(i.consumerId, i.key));
    pairs.push(i);
  }
  for (const chunk of chunks(pairs, 2)) {
    const rows = await db
      .selectFrom("idempotency_keys")
      .select(["consumer_id", "idem_key", "job_id"])
      .where("consumer_id", "in", [...new Set(chunk.map((p) => p.consumerId))])
      .where("idem_key", "in", [...new Set(chunk.map((p) => p.key))])
      .execute();
    for (const r of rows) {
      const k = claimKey(r.consumer_id, r.idem_key);
      if (wanted.has(k)) claims.set(k, r.job_id);
    }
  }

  const applied = new Set<string>();
  const eventIds = [...new Set(ops.flatMap((op) => (op.ledger ? [op.ledger.id] : [])))];
  for (const chunk of chunks(eventIds, 1)) {
    const rows = await db.selectFrom("ledger_events").select("id").where("id", "in", chunk).execute();
    for (const r of rows) applied.add(r.id);
  }

  const balances = new Map<string, bigint>();
  for (const chunk of chunks([...accountsTouched(ops, applied)], 1)) {
    const rows = await db.selectFrom("accounts").select(["name", "balance"]).where("name", "in", chunk).execute();
    for (const r of rows) balances.set(r.name, money(r.balance));
  }
  return { claims, applied, balances };
}

async function write(db: Kysely<Database>, w: BatchWrites): Promise<void> {
  for (const chunk of chunks(w.claims, 3)) {
    await db
      .insertInto("idempotency_keys")
      .values(chunk.map((c) => ({ consumer_id: c.consumerId, idem_key: c.key, job_id: c.jobId })))
      .execute();
  }
  for (const chunk of chunks(w.events, 4)) {
    await db
      .insertInto("ledger_events")
      .values(chunk.map((e) => ({ id: e.id, kind: e.kind, job_id: e.jobId, at: e.at })))
      .execute();
  }
  for (const chunk of chunks(w.postings, 7)) {
    await db
      .insertInto("postings")
      .values(
        chunk.map((p) => ({
          event_id: p.eventId,
          kind: p.kind,
          job_id: p.jobId,
          from_account: p.from,
          to_account: p.to,
          amount: p.amount,
          at: p.at,
        })),
      )
      .execute();
  }
  for (const chunk of chunks([...w.deltas], 2)) {
    await db
      .insertInto("accounts")
      .values(chunk.map(([name, delta]) => ({ name, balance: delta })))
      .onConflict((oc) =>
        oc.column("name").doUpdateSet((eb) => ({ balance: eb("accounts.balance", "+", eb.ref("excluded.balance")) })),
      )
      .execute();
  }
  for (const chunk of chunks([...w.jobs.values()], 26)) {
    await db
      .insertInto("jobs")
      .values(chunk.map(jobToRow))
      .onConflict((oc) =>
        // only what a job's transitions change: an index over the columns a job was submitted
        // with (consumer, creation time) is left alone, so an update rewrites fewer b-tree pages
        oc.column("id").doUpdateSet((eb) => ({
          status: eb.ref("excluded.status"),
          attempt: eb.ref("excluded.attempt"),
          max_attempts: eb.ref("excluded.max_attempts"),
          provider_id: eb.ref("excluded.provider_id"),
          price_per_unit: eb.ref("excluded.price_per_unit"),
          lease_expires_at: eb.ref("excluded.lease_expires_at"),
          tried_providers: eb.ref("excluded.tried_providers"),
          cost: eb.ref("excluded.cost"),
          units: eb.ref("excluded.units"),
          output: eb.ref("excluded.output"),
          output_hash: eb.ref("excluded.output_hash"),
          signature: eb.ref("excluded.signature"),
          error: eb.ref("excluded.error"),
          updated_at: eb.ref("excluded.updated_at"),
          started_at: eb.ref("excluded.started_at"),
          finished_at: eb.ref("excluded.finished_at"),
        })),
      )
      .execute();
  }
  for (const chunk of chunks([...w.attempts.values()], 7)) {
    await db
      .insertInto("attempts")
      .values(chunk.map(attemptToRow))
      .onConflict((oc) =>
        oc.columns(["job_id", "attempt"]).doUpdateSet((eb) => ({
          ended_at: eb.ref("excluded.ended_at"),
          outcome: eb.ref("excluded.outcome"),
          reason: eb.ref("excluded.reason"),
        })),
      )
      .execute();
  }
  for (const chunk of chunks([...w.providers.values()], 7)) {
    await db
      .insertInto("providers")
      .values(chunk.map(providerToRow))
      .onConflict((oc) =>
        oc.column("id").doUpdateSet((eb) => ({
          capabilities: eb.ref("excluded.capabilities"),
          // first seen stays when it was first seen: each connection writes its own start here
          last_seen_at: eb.ref("excluded.last_seen_at"),
          online: eb.ref("excluded.online"),
          completed: eb.ref("excluded.completed"),
          failed: eb.ref("excluded.failed"),
        })),
      )
      .execute();
  }
  for (const b of w.sharesBooks.values()) await upsertSharesBook(db, b);
}
