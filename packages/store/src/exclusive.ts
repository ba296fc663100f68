// One gateway per database: its engine keeps leases in memory, so a second gateway on the same
// database would run the same jobs again. The gateway's store holds a lock that the operating
// system or the server drops when the process dies (never a pid file, which a crash leaves behind).
import { mkdirSync, realpathSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";

/** A held database; release() lets the next gateway in. */
export interface DatabaseHold {
  release(): Promise<void>;
}

/** Thrown by openStore({ exclusive: true }) when another process holds the database. */
export class DatabaseHeld extends Error {
  readonly code = "database_held";
  constructor(where: string, holder?: string) {
    super(
      `another gateway holds this database (${where}${holder ? `; held by ${holder}` : ""}): ` +
        "stop it first, or give this gateway a database of its own (--db)",
    );
    this.name = "DatabaseHeld";
  }
}

/**
 * SQLite: an EXCLUSIVE transaction on a sidecar file `<db>.lock`, kept open on a connection of
 * its own. It cannot be the database file itself, which the checkpoint worker and tools read
 * while the gateway runs. SQLite's locks are POSIX locks, which end with the process, and it
 * also keeps two connections of one process apart. The path is resolved through symlinks, so
 * that two spellings of one file meet at one lock.
 */
export function holdSqlite(path: string): DatabaseHold {
  mkdirSync(dirname(path), { recursive: true });
  const lockPath = `${realFile(path)}.lock`;
  const db = new BetterSqlite3(lockPath, { timeout: 0 });
  try {
    db.exec("begin exclusive");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_BUSY") throw new DatabaseHeld(path);
    throw e;
  }
  return {
    async release() {
      if (db.open) db.close();
    },
  };
}

function realFile(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return join(realpathSync(dirname(path)), basename(path));
  }
}

/**
 * The (int, int) key of the gateway's session-level advisory lock. Advisory locks are per
 * database, and the two-int form never meets a one-bigint key (commit's, Kysely's migration lock).
 */
const PG_GATEWAY_LOCK = [0x7e55e7a, 1] as const;
/** how often a hold whose connection dropped tries to take the lock again */
const PG_RETAKE_MS = 1_000;

/**
 * PostgreSQL: pg_try_advisory_lock on a connection of its own, for the store's whole life; the
 * server drops the lock with the session, so a killed gateway frees its database at once. The
 * connection names its process (application_name), so a refused gateway can say who holds it.
 * If the connection drops (the server restarted), the lock went with it: the hold reconnects and
 * takes it again in the background.
 */
export async function holdPostgres(url: string): Promise<DatabaseHold> {
  const name = `tessera gateway pid ${process.pid} on ${hostname()}`.slice(0, 63);
  let closed = false;
  let client: pg.Client | undefined;
  let retake: NodeJS.Timeout | undefined;

  const take = async (): Promise<boolean> => {
    const c = new pg.Client({ connectionString: url, application_name: name });
    // a dropped connection must not crash the process; 'end' follows and schedules a retake
    c.on("error", () => {});
    await c.connect();
    try {
      const r = await c.query<{ ok: boolean }>("select pg_try_advisory_lock($1, $2) as ok", [...PG_GATEWAY_LOCK]);
      if (!r.rows[0]?.ok) {
        await c.end().catch(() => {});
        return false;
      }
    } catch (e) {
      await c.end().catch(() => {});
      throw e;
    }
    client = c;
    c.once("end", () => {
      if (client === c) client = undefined;
      if (!closed) scheduleRetake();
    });
    return true;
  };
  const scheduleRetake = () => {
    retake = setTimeout(() => {
      retake = undefined;
      take().then(
        (ok) => {
          if (!ok && !closed) scheduleRetake();
          else if (closed) void client?.end().catch(() => {});
        },
        () => !closed && scheduleRetake(),
      );
    }, PG_RETAKE_MS);
    retake.unref();
  };

  if (!(await take())) throw new DatabaseHeld(redact(url), await pgHolder(url));
  return {
    async release() {
      closed = true;
      if (retake) clearTimeout(retake);
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}

/** Who holds the gateway lock of a database, as its connection named itself. */
async function pgHolder(url: string): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {});
  try {
    await c.connect();
    const r = await c.query<{ application_name: string; backend_start: Date }>(
      `select a.application_name, a.backend_start from pg_locks l join pg_stat_activity a on a.pid = l.pid
       where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
         and l.classid = $1 and l.objid = $2 and l.objsubid = 2`,
      [...PG_GATEWAY_LOCK],
    );
    const h = r.rows[0];
    return h ? `${h.application_name || "an unnamed connection"}, since ${h.backend_start.toISOString()}` : undefined;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => {});
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres";
  }
}
