// PostgreSQL through a pg Pool. int8 and numeric arrive as strings and are converted where read.
// PostgreSQL's text cannot hold U+0000 (SQLite's can): every string parameter reaches the server
// with U+0000 as U+FFFD, so that a consumer's or a node's odd byte is stored instead of failing
// the whole commit. JSON columns are unaffected: JSON.stringify writes U+0000 as the escape \u0000.
// Every text column is collated "C", so that ORDER BY, < and > and prefix ranges compare bytes as
// SQLite does, whatever collation the database was created with (withBytewiseText).
import {
  Kysely,
  type Migration,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
  sql,
} from "kysely";
import pg from "pg";
import type { Database } from "../schema.js";

export function isPostgresUrl(url: string): boolean {
  return url.startsWith("postgres://") || url.startsWith("postgresql://");
}

/** What a string becomes in PostgreSQL's text: U+0000 -> U+FFFD. */
export function pgText(s: string): string {
  return s.includes("\0") ? s.replaceAll("\0", "\uFFFD") : s;
}

/** The parameters with every string's U+0000 replaced (the same array when there is none). */
function withoutNul(params: readonly unknown[]): readonly unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p === "string" && p.includes("\0")) {
      out ??= [...params];
      out[i] = p.replaceAll("\0", "\uFFFD");
    }
  }
  return out ?? params;
}

/** A pooled pg client whose parameters pass through withoutNul. */
class NulSafeClient implements PostgresPoolClient {
  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(q: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): unknown {
    // a cursor (streaming) is built by Kysely from the same parameters; the store streams nothing
    if (typeof q !== "string") return this.client.query(q as unknown as pg.Submittable);
    return this.client.query(q, withoutNul(parameters) as unknown[]);
  }

  release(): void {
    this.client.release();
  }
}

/** A pg Pool handing out NulSafeClients, one per pooled client (Kysely keys its state by client). */
class NulSafePool implements PostgresPool {
  private readonly wrapped = new WeakMap<pg.PoolClient, NulSafeClient>();

  constructor(private readonly pool: pg.Pool) {}

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.pool.connect();
    let w = this.wrapped.get(client);
    if (!w) {
      w = new NulSafeClient(client);
      this.wrapped.set(client, w);
    }
    return w;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

export function openPostgres(url: string): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // an idle client losing its server must not crash the process; the next query reports it
  pool.on("error", () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new NulSafePool(pool) }) });
}

/** text columns by table */
type TextColumns = Map<string, string[]>;

/**
 * The text columns of the current schema's tables that do not compare bytewise: those declared
 * without a collation follow the database's, and under a linguistic one (en_US, ICU en-US)
 * 'job-B' sorts after 'job-a' and a range from 'job-a' to 'job-a\uffff' holds 'job-Ab'.
 */
async function textColumnsNotBytewise(db: Kysely<unknown>): Promise<TextColumns> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name
    from information_schema.columns c
    join information_schema.tables t
      on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = current_schema() and c.data_type = 'text' and c.collation_name is distinct from 'C'
    order by c.table_name, c.ordinal_position`.execute(db);
  const out: TextColumns = new Map();
  for (const r of rows) out.set(r.table_name, [...(out.get(r.table_name) ?? []), r.column_name]);
  return out;
}

/** Collates these columns "C": one ALTER TABLE a table, which rebuilds its indexes on them once. */
async function collateBytewise(db: Kysely<unknown>, columns: TextColumns): Promise<void> {
  for (const [table, names] of columns) {
    const alters = names.map((c) => sql`alter column ${sql.ref(c)} type text collate "C"`);
    await sql`alter table ${sql.table(table)} ${sql.join(alters)}`.execute(db);
  }
}

/**
 * The migration with every text column it adds collated "C" in the same transaction, so that a
 * migration written for both dialects (plain "text") compares bytes on PostgreSQL too. Only the
 * columns it added: other tables in the same schema are not the store's to change.
 */
export function withBytewiseText(migration: Migration): Migration {
  return {
    ...migration,
    async up(db) {
      const before = await textColumnsNotBytewise(db);
      await migration.up(db);
      const added: TextColumns = new Map();
      for (const [table, names] of await textColumnsNotBytewise(db)) {
        const had = new Set(before.get(table));
        const fresh = names.filter((c) => !had.has(c));
        if (fresh.length > 0) added.set(table, fresh);
      }
      await collateBytewise(db, added);
    },
  };
}

/**
 * For a database made before withBytewiseText: collates "C" the text columns of these tables
 * (those that are there; a column already "C" is left as it is).
 */
export function bytewiseTextOf(tables: readonly string[]): Migration {
  return {
    async up(db) {
      const all = await textColumnsNotBytewise(db);
      await collateBytewise(db, new Map(tables.flatMap((t) => (all.has(t) ? [[t, all.get(t) ?? []]] : []))));
    },
  };
}
