// SQLite through better-sqlite3: WAL journal, NORMAL sync (durable across process crashes,
// fast commits), every integer read as bigint so money never passes through a double.
// Statements are prepared once per SQL text and reused, since Kysely prepares on every call.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import type { Database } from "../schema.js";

const STATEMENT_CACHE_SIZE = 512;

/** better-sqlite3 behind Kysely's SqliteDatabase, reusing prepared statements (LRU). */
class StatementCache implements SqliteDatabase {
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(private readonly db: BetterSqlite3.Database) {}

  prepare(sql: string): SqliteStatement {
    const cached = this.statements.get(sql);
    if (cached) {
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const stmt = this.db.prepare(sql);
    this.statements.set(sql, stmt);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
    return stmt;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}

export function openSqlite(path: string): Kysely<Database> {
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.defaultSafeIntegers(true);
  if (!inMemory) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  // 16 MiB of page cache: hot pages are recent jobs and balances, and the OS caches the file too.
  // (64 MiB filled up as the database grew and was most of a busy gateway's memory growth.)
  db.pragma("cache_size = -16384");
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(db) }) });
}
