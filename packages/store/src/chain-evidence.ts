// Slashing evidence under on-chain settlement: each result's EIP-712 signature by the provider's
// eth key (with the cost basis it covers), each verdict's by the verifier's, and every slash the
// gateway submits to the Slashing contract with its state (pending, slashed, used, failed), tx
// and on-chain outcome. Amounts are uint256 on chain, so they are kept as decimal text.
import type { ColumnType, Kysely, Migration } from "kysely";
import { num } from "./rows.js";
import type { Database, DbInt } from "./schema.js";

type Num = ColumnType<DbInt, number, number>;

interface ChainResultsTable {
  job_id: string;
  attempt: Num;
  provider_id: string;
  provider_address: string;
  consumer_address: string;
  standard_units: Num;
  output_hash: string;
  cost: string;
  signature: string;
  at: Num;
}
interface ChainVerdictsTable {
  audit_id: string;
  verifier_id: string;
  job_id: string;
  verifier_address: string;
  valid: Num;
  issued_at: Num;
  signature: string;
  at: Num;
}
interface ChainSlashesTable {
  audit_id: string;
  job_id: string;
  attempt: Num;
  provider_id: string;
  consumer_id: string;
  provider_address: string;
  status: string;
  attempts: Num;
  next_at: Num;
  error: string | null;
  tx: string | null;
  taken: string | null;
  refund: string | null;
  reward: string | null;
  created_at: Num;
  updated_at: Num;
}
type ChainDb = Database & {
  chain_results: ChainResultsTable;
  chain_verdicts: ChainVerdictsTable;
  chain_slashes: ChainSlashesTable;
};

export const chainEvidenceMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("chain_results")
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("provider_id", "text", (c) => c.notNull())
      .addColumn("provider_address", "text", (c) => c.notNull())
      .addColumn("consumer_address", "text", (c) => c.notNull())
      .addColumn("standard_units", "bigint", (c) => c.notNull())
      .addColumn("output_hash", "text", (c) => c.notNull())
      .addColumn("cost", "text", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("chain_results_pk", ["job_id", "attempt"])
      .execute();
    await db.schema
      .createTable("chain_verdicts")
      .addColumn("audit_id", "text", (c) => c.notNull())
      .addColumn("verifier_id", "text", (c) => c.notNull())
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("verifier_address", "text", (c) => c.notNull())
      .addColumn("valid", "integer", (c) => c.notNull())
      .addColumn("issued_at", "bigint", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("chain_verdicts_pk", ["audit_id", "verifier_id"])
      .execute();
    await db.schema
      .createTable("chain_slashes")
      .addColumn("audit_id", "text", (c) => c.primaryKey())
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("provider_id", "text", (c) => c.notNull())
      .addColumn("consumer_id", "text", (c) => c.notNull())
      .addColumn("provider_address", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("next_at", "bigint", (c) => c.notNull())
      .addColumn("error", "text")
      .addColumn("tx", "text")
      .addColumn("taken", "text")
      .addColumn("refund", "text")
      .addColumn("reward", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("chain_slashes_status").on("chain_slashes").columns(["status", "next_at"]).execute();
    await db.schema.createIndex("chain_slashes_job").on("chain_slashes").column("job_id").execute();
  },
};

export interface ChainResultRow {
  jobId: string;
  attempt: number;
  providerId: string;
  providerAddress: string;
  consumerAddress: string;
  standardUnits: number;
  outputHash: string;
  cost: bigint;
  signature: string;
  at: number;
}

export interface ChainVerdictRow {
  auditId: string;
  verifierId: string;
  jobId: string;
  verifierAddress: string;
  valid: boolean;
  issuedAt: number;
  signature: string;
  at: number;
}

export interface ChainSlashRow {
  auditId: string;
  jobId: string;
  attempt: number;
  providerId: string;
  consumerId: string;
  providerAddress: string;
  status: "pending" | "slashed" | "used" | "failed";
  attempts: number;
  nextAt: number;
  error: string | null;
  tx: string | null;
  taken: bigint | null;
  refund: bigint | null;
  reward: bigint | null;
  createdAt: number;
  updatedAt: number;
}

export interface ChainEvidenceStore {
  /** a result's evidence; a second put of the same job and attempt changes nothing */
  putResult(r: ChainResultRow): Promise<void>;
  result(jobId: string, attempt: number): Promise<ChainResultRow | undefined>;
  /** a verdict's evidence; one per verifier and audit */
  putVerdict(v: ChainVerdictRow): Promise<void>;
  verdicts(auditId: string): Promise<ChainVerdictRow[]>;
  /** creates or updates the slash of an audit */
  putSlash(s: ChainSlashRow): Promise<void>;
  slash(auditId: string): Promise<ChainSlashRow | undefined>;
  /** slashes still to be submitted, due first */
  pendingSlashes(): Promise<ChainSlashRow[]>;
  /** newest first; only one provider's when `providerId` is given */
  recentSlashes(limit: number, providerId?: string): Promise<ChainSlashRow[]>;
}

const bigOrNull = (s: string | null) => (s === null ? null : BigInt(s));
const textOrNull = (b: bigint | null) => (b === null ? null : b.toString());

function toSlash(r: {
  audit_id: string;
  job_id: string;
  attempt: DbInt;
  provider_id: string;
  consumer_id: string;
  provider_address: string;
  status: string;
  attempts: DbInt;
  next_at: DbInt;
  error: string | null;
  tx: string | null;
  taken: string | null;
  refund: string | null;
  reward: string | null;
  created_at: DbInt;
  updated_at: DbInt;
}): ChainSlashRow {
  return {
    auditId: r.audit_id,
    jobId: r.job_id,
    attempt: num(r.attempt),
    providerId: r.provider_id,
    consumerId: r.consumer_id,
    providerAddress: r.provider_address,
    status: r.status as ChainSlashRow["status"],
    attempts: num(r.attempts),
    nextAt: num(r.next_at),
    error: r.error,
    tx: r.tx,
    taken: bigOrNull(r.taken),
    refund: bigOrNull(r.refund),
    reward: bigOrNull(r.reward),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export class KyselyChainEvidenceStore implements ChainEvidenceStore {
  private readonly db: Kysely<ChainDb>;
  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<ChainDb>;
  }

  async putResult(r: ChainResultRow): Promise<void> {
    await this.db
      .insertInto("chain_results")
      .values({
        job_id: r.jobId,
        attempt: r.attempt,
        provider_id: r.providerId,
        provider_address: r.providerAddress,
        consumer_address: r.consumerAddress,
        standard_units: r.standardUnits,
        output_hash: r.outputHash,
        cost: r.cost.toString(),
        signature: r.signature,
        at: r.at,
      })
      .onConflict((oc) => oc.columns(["job_id", "attempt"]).doNothing())
      .execute();
  }

  async result(jobId: string, attempt: number): Promise<ChainResultRow | undefined> {
    const r = await this.db
      .selectFrom("chain_results")
      .selectAll()
      .where("job_id", "=", jobId)
      .where("attempt", "=", attempt)
      .executeTakeFirst();
    if (!r) return undefined;
    return {
      jobId: r.job_id,
      attempt: num(r.attempt),
      providerId: r.provider_id,
      providerAddress: r.provider_address,
      consumerAddress: r.consumer_address,
      standardUnits: num(r.standard_units),
      outputHash: r.output_hash,
      cost: BigInt(r.cost),
      signature: r.signature,
      at: num(r.at),
    };
  }

  async putVerdict(v: ChainVerdictRow): Promise<void> {
    await this.db
      .insertInto("chain_verdicts")
      .values({
        audit_id: v.auditId,
        verifier_id: v.verifierId,
        job_id: v.jobId,
        verifier_address: v.verifierAddress,
        valid: v.valid ? 1 : 0,
        issued_at: v.issuedAt,
        signature: v.signature,
        at: v.at,
      })
      .onConflict((oc) => oc.columns(["audit_id", "verifier_id"]).doNothing())
      .execute();
  }

  async verdicts(auditId: string): Promise<ChainVerdictRow[]> {
    const rows = await this.db
      .selectFrom("chain_verdicts")
      .selectAll()
      .where("audit_id", "=", auditId)
      .orderBy("at")
      .orderBy("verifier_id")
      .execute();
    return rows.map((r) => ({
      auditId: r.audit_id,
      verifierId: r.verifier_id,
      jobId: r.job_id,
      verifierAddress: r.verifier_address,
      valid: num(r.valid) === 1,
      issuedAt: num(r.issued_at),
      signature: r.signature,
      at: num(r.at),
    }));
  }

  async putSlash(s: ChainSlashRow): Promise<void> {
    const changes = {
      status: s.status,
      attempts: s.attempts,
      next_at: s.nextAt,
      error: s.error,
      tx: s.tx,
      taken: textOrNull(s.taken),
      refund: textOrNull(s.refund),
      reward: textOrNull(s.reward),
      updated_at: s.updatedAt,
    };
    await this.db
      .insertInto("chain_slashes")
      .values({
        audit_id: s.auditId,
        job_id: s.jobId,
        attempt: s.attempt,
        provider_id: s.providerId,
        consumer_id: s.consumerId,
        provider_address: s.providerAddress,
        created_at: s.createdAt,
        ...changes,
      })
      .onConflict((oc) => oc.column("audit_id").doUpdateSet(changes))
      .execute();
  }

  async slash(auditId: string): Promise<ChainSlashRow | undefined> {
    const r = await this.db.selectFrom("chain_slashes").selectAll().where("audit_id", "=", auditId).executeTakeFirst();
    return r ? toSlash(r) : undefined;
  }

  async pendingSlashes(): Promise<ChainSlashRow[]> {
    const rows = await this.db
      .selectFrom("chain_slashes")
      .selectAll()
      .where("status", "=", "pending")
      .orderBy("next_at")
      .orderBy("audit_id")
      .execute();
    return rows.map(toSlash);
  }

  async recentSlashes(limit: number, providerId?: string): Promise<ChainSlashRow[]> {
    let q = this.db.selectFrom("chain_slashes").selectAll();
    if (providerId !== undefined) q = q.where("provider_id", "=", providerId);
    const rows = await q.orderBy("created_at", "desc").orderBy("audit_id").limit(limit).execute();
    return rows.map(toSlash);
  }
}
