// SQLite through better-sqlite3: WAL journal, NORMAL sync (durable across process crashes,
// fast commits), every integer read as bigint so money never passes through a double.
// Statements are prepared once per SQL text and reused, since Kysely prepares on every call.
// A file database is checkpointed from a worker thread (sqlite-checkpoint-worker.mjs), not by
// whichever commit happens to cross SQLite's threshold.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import type { Database } from "../schema.js";

const STATEMENT_CACHE_SIZE = 512;

/** better-sqlite3 behind Kysely's SqliteDatabase, reusing prepared statements (LRU). */
class StatementCache implements SqliteDatabase {
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly checkpointer?: WalCheckpointer,
  ) {}

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
    // the worker's connection goes first, so that this one is the last and removes the WAL
    this.checkpointer?.stop();
    this.db.close();
  }
}

/** how often the worker looks for new commits to checkpoint */
const CHECKPOINT_INTERVAL_MS = 1000;
/** 4 KiB pages: a log past ~40 MiB is restarted (see the worker) */
const RESTART_FRAMES = 10_000;
const STOP = 0;
const CLOSED = 1;

/**
 * Runs the WAL checkpoints of one database file on a worker thread with its own connection, and
 * turns SQLite's automatic checkpoint off while it does: that one runs inside the commit that
 * crosses 1,000 log pages, on the event loop, and copying them back took 2–50 ms under load. If
 * the worker dies, automatic checkpoints come back.
 */
class WalCheckpointer {
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;

  constructor(
    path: string,
    private readonly db: BetterSqlite3.Database,
  ) {
    db.pragma("wal_autocheckpoint = 0");
    this.worker = new Worker(new URL("./sqlite-checkpoint-worker.mjs", import.meta.url), {
      workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS, restartFrames: RESTART_FRAMES, control: this.control },
    });
    this.worker.unref();
    this.worker.on("error", () => {
      if (this.db.open) this.db.pragma("wal_autocheckpoint = 1000");
    });
  }

  /** Stops the worker and waits until its connection is closed (at most one checkpoint's time). */
  stop(): void {
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, STOP);
    if (Atomics.wait(this.control, CLOSED, 0, 5_000) === "timed-out") void this.worker.terminate();
  }
}

export function openSqlite(path: string): Kysely<Database> {
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.defaultSafeIntegers(true);
  // first: switching a new file to WAL waits for processes opening it at the same time
  db.pragma("busy_timeout = 5000");
  if (!inMemory) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  // 16 MiB of page cache: hot pages are recent jobs and balances, and the OS caches the file too.
  // (64 MiB filled up as the database grew and was most of a busy gateway's memory growth.)
  db.pragma("cache_size = -16384");
  const checkpointer = inMemory ? undefined : new WalCheckpointer(path, db);
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(db, checkpointer) }) });
}
