// Opens the store named by a URL: postgres:// or postgresql:// is PostgreSQL, anything else
// a SQLite file path (":memory:" for tests). Migrations run before the store is returned.
import { isPostgresUrl, openPostgres } from "./dialects/postgres.js";
import { openSqlite } from "./dialects/sqlite.js";
import { type DatabaseHold, holdPostgres, holdSqlite } from "./exclusive.js";
import { KyselyStore } from "./kysely-store.js";
import type { Store } from "./types.js";

export interface OpenStoreOptions {
  /**
   * Hold the database for this process until close (the gateway, whose leases live in memory):
   * throws DatabaseHeld when another process holds it. Taken before anything is read or
   * migrated, and dropped by the OS or the server if the process dies. ":memory:" needs none.
   */
  exclusive?: boolean;
}

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const postgres = isPostgresUrl(url);
  const inMemory = !postgres && (url === ":memory:" || url === "");
  let hold: DatabaseHold | undefined;
  if (opts.exclusive && !inMemory) {
    hold = postgres ? await holdPostgres(url) : holdSqlite(url);
  }
  let store: KyselyStore;
  try {
    store = postgres
      ? new KyselyStore(openPostgres(url), "postgres", hold)
      : new KyselyStore(openSqlite(url), "sqlite", hold);
  } catch (e) {
    await hold?.release();
    throw e;
  }
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}
