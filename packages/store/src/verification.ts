// Verification records: each audit of a settled job with the signed verdicts it collected and
// its outcome, and each stake unbonding with its release time. Written directly (not through
// group commit): they are appended after the job settled, and a slash's money moves through the
// ledger by event id, so a replayed audit record never moves money twice.
import type { VerdictReport } from "@tessera/protocol";
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { money, num } from "./rows.js";
import type { Database, DbInt } from "./schema.js";
import { KyselyVerificationReads, type VerificationReads } from "./verification-reads.js";

type Num = ColumnType<DbInt, number, number>;
type NullableNum = ColumnType<DbInt | null, number | null, number | null>;

interface AuditsTable {
  id: string;
  job_id: string;
  provider_id: string;
  /** "pending" | "passed" | "slashed" | "void" */
  status: string;
  /** canary: the gateway knew the right answer */
  kind: string;
  created_at: Num;
  decided_at: NullableNum;
}
interface VerdictsTable {
  audit_id: string;
  verifier_id: string;
  job_id: string;
  pass: Num;
  report: string;
  signature: string;
  elapsed_ms: Num;
  at: Num;
}
interface UnbondingsTable {
  id: string;
  provider_id: string;
  amount: ColumnType<DbInt, bigint, bigint>;
  release_at: Num;
  released: Num;
}
interface OpenCanariesTable {
  job_id: string;
  /** the known answer the canary's result must hash to */
  output_hash: string;
  created_at: Num;
}
export type VerificationDb = Database & {
  audits: AuditsTable;
  verdicts: VerdictsTable;
  unbondings: UnbondingsTable;
  open_canaries: OpenCanariesTable;
};

export const verificationMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("audits")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("provider_id", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("decided_at", "bigint")
      .execute();
    await db.schema.createIndex("audits_job").on("audits").column("job_id").execute();
    await db.schema.createIndex("audits_provider").on("audits").columns(["provider_id", "created_at"]).execute();
    await db.schema
      .createTable("verdicts")
      .addColumn("audit_id", "text", (c) => c.notNull())
      .addColumn("verifier_id", "text", (c) => c.notNull())
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("pass", "integer", (c) => c.notNull())
      .addColumn("report", "text", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .addColumn("elapsed_ms", "bigint", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("verdicts_pk", ["audit_id", "verifier_id"])
      .execute();
    await db.schema.createIndex("verdicts_job").on("verdicts").column("job_id").execute();
    await db.schema
      .createTable("unbondings")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("provider_id", "text", (c) => c.notNull())
      .addColumn("amount", "bigint", (c) => c.notNull())
      .addColumn("release_at", "bigint", (c) => c.notNull())
      .addColumn("released", "integer", (c) => c.notNull())
      .execute();
  },
};

/** Canary jobs submitted and not yet judged, so a restart still judges them. */
export const openCanariesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("open_canaries")
      .addColumn("job_id", "text", (c) => c.primaryKey())
      .addColumn("output_hash", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
  },
};

export interface OpenCanaryRow {
  jobId: string;
  outputHash: string;
  createdAt: number;
}

export interface AuditRow {
  id: string;
  jobId: string;
  providerId: string;
  /**
   * `void`: a verifier canary made of the job's genuine result under another job's spec (a
   * known-wrong canary): it judged nothing of the provider's work
   */
  status: "pending" | "passed" | "slashed" | "void";
  kind: "sampled" | "canary";
  createdAt: number;
  decidedAt: number | null;
}
export interface AuditCursor {
  createdAt: number;
  id: string;
}

export interface VerdictRow {
  auditId: string;
  verifierId: string;
  jobId: string;
  pass: boolean;
  report: VerdictReport;
  signature: string;
  elapsedMs: number;
  at: number;
}
export interface UnbondingRow {
  id: string;
  providerId: string;
  amount: bigint;
  releaseAt: number;
  released: boolean;
}

/** Writes and per-job reads here; the explorer's aggregates are in verification-reads.ts. */
export interface VerificationStore extends VerificationReads {
  putAudit(a: AuditRow): Promise<void>;
  putVerdict(v: VerdictRow): Promise<void>;
  /** audits of a job with their verdicts, oldest first */
  auditsOfJob(jobId: string): Promise<Array<AuditRow & { verdicts: VerdictRow[] }>>;
  /** newest first: the explorer's feed of audits */
  recentAudits(limit: number): Promise<AuditRow[]>;
  /**
   * Undecided audits with their verdicts, oldest first, after `after` (created_at, then id): how
   * the gateway pages through audits that wait for a verifier.
   */
  pendingAudits(limit: number, after?: AuditCursor): Promise<Array<AuditRow & { verdicts: VerdictRow[] }>>;
  /**
   * Records an unbonding unless one of this id exists, and returns the stored one: a replayed
   * unbond request (same id) keeps the first record's amount and release time.
   */
  addUnbonding(u: UnbondingRow): Promise<UnbondingRow>;
  markUnbondingReleased(id: string): Promise<void>;
  dueUnbondings(now: number): Promise<UnbondingRow[]>;
  pendingUnbonding(providerId: string): Promise<bigint>;
  putOpenCanary(c: OpenCanaryRow): Promise<void>;
  deleteOpenCanary(jobId: string): Promise<void>;
  /** oldest first */
  openCanaries(): Promise<OpenCanaryRow[]>;
}

export class KyselyVerificationStore extends KyselyVerificationReads implements VerificationStore {
  constructor(db: Kysely<Database>) {
    super(db as unknown as Kysely<VerificationDb>);
  }

  async putAudit(a: AuditRow): Promise<void> {
    const row = {
      id: a.id,
      job_id: a.jobId,
      provider_id: a.providerId,
      status: a.status,
      kind: a.kind,
      created_at: a.createdAt,
      decided_at: a.decidedAt,
    };
    await this.db
      .insertInto("audits")
      .values(row)
      .onConflict((oc) => oc.column("id").doUpdateSet({ status: a.status, kind: a.kind, decided_at: a.decidedAt }))
      .execute();
  }

  async putVerdict(v: VerdictRow): Promise<void> {
    await this.db
      .insertInto("verdicts")
      .values({
        audit_id: v.auditId,
        verifier_id: v.verifierId,
        job_id: v.jobId,
        pass: v.pass ? 1 : 0,
        report: JSON.stringify(v.report),
        signature: v.signature,
        elapsed_ms: Math.round(v.elapsedMs),
        at: v.at,
      })
      .onConflict((oc) => oc.columns(["audit_id", "verifier_id"]).doNothing())
      .execute();
  }

  async auditsOfJob(jobId: string): Promise<Array<AuditRow & { verdicts: VerdictRow[] }>> {
    const audits = await this.db
      .selectFrom("audits")
      .selectAll()
      .where("job_id", "=", jobId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    const verdicts = await this.db
      .selectFrom("verdicts")
      .selectAll()
      .where("job_id", "=", jobId)
      .orderBy("at")
      .orderBy("audit_id")
      .orderBy("verifier_id")
      .execute();
    return withVerdicts(audits, verdicts);
  }

  async recentAudits(limit: number): Promise<AuditRow[]> {
    const rows = await this.db
      .selectFrom("audits")
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toAudit);
  }

  async pendingAudits(limit: number, after?: AuditCursor): Promise<Array<AuditRow & { verdicts: VerdictRow[] }>> {
    let q = this.db.selectFrom("audits").selectAll().where("status", "=", "pending");
    if (after)
      q = q.where((eb) =>
        eb.or([
          eb("created_at", ">", after.createdAt),
          eb.and([eb("created_at", "=", after.createdAt), eb("id", ">", after.id)]),
        ]),
      );
    const audits = await q.orderBy("created_at").orderBy("id").limit(limit).execute();
    if (audits.length === 0) return [];
    const verdicts = await this.db
      .selectFrom("verdicts")
      .selectAll()
      .where(
        "audit_id",
        "in",
        audits.map((a) => a.id),
      )
      .orderBy("at")
      .orderBy("audit_id")
      .orderBy("verifier_id")
      .execute();
    return withVerdicts(audits, verdicts);
  }

  async addUnbonding(u: UnbondingRow): Promise<UnbondingRow> {
    await this.db
      .insertInto("unbondings")
      .values({
        id: u.id,
        provider_id: u.providerId,
        amount: u.amount,
        release_at: u.releaseAt,
        released: u.released ? 1 : 0,
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const stored = await this.db.selectFrom("unbondings").selectAll().where("id", "=", u.id).executeTakeFirstOrThrow();
    return toUnbonding(stored);
  }

  async markUnbondingReleased(id: string): Promise<void> {
    await this.db.updateTable("unbondings").set({ released: 1 }).where("id", "=", id).execute();
  }

  async dueUnbondings(now: number): Promise<UnbondingRow[]> {
    const rows = await this.db
      .selectFrom("unbondings")
      .selectAll()
      .where("released", "=", 0)
      .where("release_at", "<=", now)
      .execute();
    return rows.map(toUnbonding);
  }

  async pendingUnbonding(providerId: string): Promise<bigint> {
    const r = await this.db
      .selectFrom("unbondings")
      .select(sql<DbInt | null>`sum(amount)`.as("total"))
      .where("provider_id", "=", providerId)
      .where("released", "=", 0)
      .executeTakeFirst();
    return r?.total == null ? 0n : money(r.total);
  }

  async putOpenCanary(c: OpenCanaryRow): Promise<void> {
    await this.db
      .insertInto("open_canaries")
      .values({ job_id: c.jobId, output_hash: c.outputHash, created_at: c.createdAt })
      .onConflict((oc) => oc.column("job_id").doNothing())
      .execute();
  }

  async deleteOpenCanary(jobId: string): Promise<void> {
    await this.db.deleteFrom("open_canaries").where("job_id", "=", jobId).execute();
  }

  async openCanaries(): Promise<OpenCanaryRow[]> {
    const rows = await this.db
      .selectFrom("open_canaries")
      .selectAll()
      .orderBy("created_at")
      .orderBy("job_id")
      .execute();
    return rows.map((r) => ({ jobId: r.job_id, outputHash: r.output_hash, createdAt: num(r.created_at) }));
  }
}

function toAudit(r: AuditsTable extends infer T ? { [K in keyof T]: unknown } : never): AuditRow {
  return {
    id: r.id as string,
    jobId: r.job_id as string,
    providerId: r.provider_id as string,
    status: r.status as AuditRow["status"],
    kind: r.kind as AuditRow["kind"],
    createdAt: num(r.created_at as DbInt),
    decidedAt: r.decided_at == null ? null : num(r.decided_at as DbInt),
  };
}
function toVerdict(r: { [K in keyof VerdictsTable]: unknown }): VerdictRow {
  return {
    auditId: r.audit_id as string,
    verifierId: r.verifier_id as string,
    jobId: r.job_id as string,
    pass: num(r.pass as DbInt) === 1,
    report: JSON.parse(r.report as string) as VerdictReport,
    signature: r.signature as string,
    elapsedMs: num(r.elapsed_ms as DbInt),
    at: num(r.at as DbInt),
  };
}
/** Each audit with its verdicts (given in the order they were cast). */
function withVerdicts(
  audits: Array<Parameters<typeof toAudit>[0]>,
  verdicts: Array<Parameters<typeof toVerdict>[0]>,
): Array<AuditRow & { verdicts: VerdictRow[] }> {
  const byAudit = new Map<string, VerdictRow[]>();
  for (const v of verdicts.map(toVerdict)) {
    const list = byAudit.get(v.auditId);
    if (list) list.push(v);
    else byAudit.set(v.auditId, [v]);
  }
  return audits.map((a) => {
    const audit = toAudit(a);
    return { ...audit, verdicts: byAudit.get(audit.id) ?? [] };
  });
}
function toUnbonding(r: { [K in keyof UnbondingsTable]: unknown }): UnbondingRow {
  return {
    id: r.id as string,
    providerId: r.provider_id as string,
    amount: money(r.amount as DbInt),
    releaseAt: num(r.release_at as DbInt),
    released: num(r.released as DbInt) === 1,
  };
}
