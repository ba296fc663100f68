// PostgreSQL through a pg Pool. int8 and numeric arrive as strings and are converted where read.
// PostgreSQL's text cannot hold U+0000 (SQLite's can): every string parameter reaches the server
// with U+0000 as U+FFFD, so that a consumer's or a node's odd byte is stored instead of failing
// the whole commit. JSON columns are unaffected: JSON.stringify writes U+0000 as the escape \u0000.
import {
  Kysely,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
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
