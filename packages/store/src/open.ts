// Opens the store named by a URL: postgres:// or postgresql:// is PostgreSQL, anything else
// a SQLite file path (":memory:" for tests). Migrations run before the store is returned.
import { isPostgresUrl, openPostgres } from "./dialects/postgres.js";
import { openSqlite } from "./dialects/sqlite.js";
import { KyselyStore } from "./kysely-store.js";
import type { Store } from "./types.js";

export async function openStore(url: string): Promise<Store> {
  const store = isPostgresUrl(url)
    ? new KyselyStore(openPostgres(url), "postgres")
    : new KyselyStore(openSqlite(url), "sqlite");
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}
