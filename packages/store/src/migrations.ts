// Schema migrations, defined in code so that the store ships as one package with no SQL files.
// Portable SQL only; the places the dialects differ (auto-increment ids, byte columns, text
// collation) branch.
import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { batchesMigration, batchFileExpiryMigration, batchFilePurposeMigration } from "./batches.js";
import { chainBindingsMigration } from "./chain-bindings.js";
import { chainEvidenceMigration } from "./chain-evidence.js";
import { chainWithdrawalsMigration } from "./chain-withdrawals.js";
import { bytewiseTextOf, withBytewiseText } from "./dialects/postgres.js";
import { reputationMigration } from "./reputation.js";
import { settlementMigration } from "./settlement.js";
import { openCanariesMigration, verificationMigration } from "./verification.js";
import { pendingAuditsMigration, verificationReadsMigration } from "./verification-reads.js";

export type Dialect = "sqlite" | "postgres";

function initial(dialect: Dialect): Migration {
  // SQLite: small rows keyed by text are stored in their primary-key b-tree, one b-tree fewer
  // to write per commit than a rowid table with a separate key index
  const clustered = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) =>
    dialect === "sqlite" ? t.modifyEnd(sql`without rowid`) : t;

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("consumers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("api_keys")
        .addColumn("hash", "text", (c) => c.primaryKey())
        .addColumn("consumer_id", "text", (c) => c.notNull())
        .addColumn("scopes", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .execute();
      await db.schema.createIndex("api_keys_consumer").on("api_keys").column("consumer_id").execute();

      await db.schema
        .createTable("jobs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("consumer_id", "text", (c) => c.notNull())
        .addColumn("spec", "text", (c) => c.notNull())
        .addColumn("constraints", "text", (c) => c.notNull())
        .addColumn("job_class", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("max_attempts", "integer", (c) => c.notNull())
        .addColumn("provider_id", "text")
        .addColumn("price_per_unit", "bigint")
        .addColumn("lease_expires_at", "bigint")
        .addColumn("tried_providers", "text", (c) => c.notNull())
        .addColumn("escrow", "bigint", (c) => c.notNull())
        .addColumn("cost", "bigint")
        .addColumn("units", "text")
        .addColumn("output", "text")
        .addColumn("output_hash", "text")
        .addColumn("signature", "text")
        .addColumn("error", "text")
        .addColumn("idempotency_key", "text")
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("started_at", "bigint")
        .addColumn("finished_at", "bigint")
        .addColumn("deadline_at", "bigint")
        .execute();
      // listJobs pages newest first by (created_at, id), optionally within a consumer or a status
      await db.schema.createIndex("jobs_created").on("jobs").columns(["created_at", "id"]).execute();
      await db.schema.createIndex("jobs_consumer").on("jobs").columns(["consumer_id", "created_at", "id"]).execute();
      await db.schema.createIndex("jobs_status").on("jobs").columns(["status", "created_at", "id"]).execute();
      await db.schema.createIndex("jobs_provider").on("jobs").column("provider_id").execute();

      await db.schema
        .createTable("idempotency_keys")
        .addColumn("consumer_id", "text", (c) => c.notNull())
        .addColumn("idem_key", "text", (c) => c.notNull())
        .addColumn("job_id", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("idempotency_keys_pk", ["consumer_id", "idem_key"])
        .$call(clustered)
        .execute();

      await db.schema
        .createTable("attempts")
        .addColumn("job_id", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("provider_id", "text", (c) => c.notNull())
        .addColumn("leased_at", "bigint", (c) => c.notNull())
        .addColumn("ended_at", "bigint")
        .addColumn("outcome", "text", (c) => c.notNull())
        .addColumn("reason", "text")
        .addPrimaryKeyConstraint("attempts_pk", ["job_id", "attempt"])
        .$call(clustered)
        .execute();

      await db.schema
        .createTable("accounts")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("balance", "bigint", (c) => c.notNull())
        .$call(clustered)
        .execute();

      await db.schema
        .createTable("ledger_events")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("job_id", "text")
        .addColumn("at", "bigint", (c) => c.notNull())
        .$call(clustered)
        .execute();

      await db.schema
        .createTable("postings")
        .$call((t) =>
          dialect === "sqlite"
            ? // a rowid alias: ids only grow, since postings are never deleted (AUTOINCREMENT would
              // cost a sqlite_sequence write per commit)
              t.addColumn("id", "integer", (c) => c.primaryKey())
            : t.addColumn("id", "bigserial", (c) => c.primaryKey()),
        )
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("job_id", "text")
        .addColumn("from_account", "text", (c) => c.notNull())
        .addColumn("to_account", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("postings_job").on("postings").column("job_id").execute();
      await db.schema.createIndex("postings_from").on("postings").column("from_account").execute();
      await db.schema.createIndex("postings_to").on("postings").column("to_account").execute();

      await db.schema
        .createTable("providers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("capabilities", "text", (c) => c.notNull())
        .addColumn("first_seen_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint", (c) => c.notNull())
        .addColumn("online", "integer", (c) => c.notNull())
        .addColumn("completed", "integer", (c) => c.notNull())
        .addColumn("failed", "integer", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("blobs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("bytes", dialect === "sqlite" ? "blob" : "bytea", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

/** Indexes for the explorer's time windows: jobs by when they ended, postings by when they were made. */
const dashboard: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex("jobs_finished").on("jobs").column("finished_at").execute();
    await db.schema.createIndex("postings_at").on("postings").column("at").execute();
  },
};

/** Every table that migrations 0001 to 0014 made, whose text columns 0015 collates "C" on PostgreSQL. */
const TABLES_BEFORE_0015 = [
  "consumers",
  "api_keys",
  "jobs",
  "idempotency_keys",
  "attempts",
  "accounts",
  "ledger_events",
  "postings",
  "providers",
  "blobs",
  "audits",
  "verdicts",
  "unbondings",
  "open_canaries",
  "batch_files",
  "batches",
  "chain_accounts",
  "vouchers",
  "node_shares",
  "node_records",
  "chain_results",
  "chain_verdicts",
  "chain_slashes",
  "chain_withdrawals",
];

function migrations(dialect: Dialect): Record<string, Migration> {
  const shared: Record<string, Migration> = {
    "0001_initial": initial(dialect),
    "0003_verification": verificationMigration,
    "0004_dashboard": dashboard,
    "0005_batches": batchesMigration,
    "0006_settlement": settlementMigration,
    "0007_reputation": reputationMigration,
    "0008_verification_reads": verificationReadsMigration,
    "0009_chain_evidence": chainEvidenceMigration,
    "0010_chain_withdrawals": chainWithdrawalsMigration,
    "0011_chain_bindings": chainBindingsMigration,
    "0012_pending_audits": pendingAuditsMigration,
    "0013_open_canaries": openCanariesMigration,
    "0014_batch_file_purpose": batchFilePurposeMigration,
    "0016_batch_file_expiry": batchFileExpiryMigration,
  };
  if (dialect === "sqlite") return shared;
  // PostgreSQL compares text by the database's collation, SQLite by bytes (BINARY): every text
  // column is collated "C" on PostgreSQL, so that ORDER BY id, cursors (id < $1) and prefix ranges
  // give SQLite's rows in SQLite's order on a database made with en_US or ICU. A new database gets
  // them as each migration adds them; 0015 collates those of a database made before (rebuilding
  // their indexes, each table locked while it does).
  const all = { ...shared, "0015_text_byte_order": bytewiseTextOf(TABLES_BEFORE_0015) };
  return Object.fromEntries(Object.entries(all).map(([name, m]) => [name, withBytewiseText(m)]));
}

/** how long a SQLite migration waits for another process's to finish */
const MIGRATION_BUSY_TIMEOUT_MS = 60_000;

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === "postgres") {
    // Kysely runs each PostgreSQL migration in a transaction under a session advisory lock
    return runMigrator(db, dialect);
  }
  // Kysely's SQLite adapter does neither: its lock is a no-op (it assumes one connection) and each
  // statement commits on its own, so a process killed mid-migration left half a schema that every
  // later start failed on ("index ... already exists"), and processes starting together on a new
  // file raced to create the same tables. SQLite's DDL is transactional: the whole migration runs
  // in one BEGIN IMMEDIATE on one connection, which waits (busy timeout) for another process's
  // migration to commit and then finds nothing left to do.
  await db.connection().execute(async (conn) => {
    // a process starved of CPU may hold the lock for its whole migration: wait longer than a
    // commit would
    const [before] = (await sql<{ timeout: number | bigint }>`pragma busy_timeout`.execute(conn)).rows;
    await sql`pragma busy_timeout = ${sql.lit(MIGRATION_BUSY_TIMEOUT_MS)}`.execute(conn);
    try {
      await sql`begin immediate`.execute(conn);
      try {
        await runMigrator(conn, dialect);
        await sql`commit`.execute(conn);
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw e;
      }
    } finally {
      await sql`pragma busy_timeout = ${sql.lit(Number(before?.timeout ?? 5000))}`.execute(conn);
    }
  });
}

async function runMigrator(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // migrations from parallel branches of work land in any order; each is independent
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new Error(
      `store migration ${failed ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
