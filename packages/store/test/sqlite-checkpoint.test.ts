// A SQLite file store checkpoints its WAL from a worker thread: committed pages reach the
// database file within about a second, long before SQLite's own threshold of 1,000 pages would
// have moved them, and closing the store closes the worker's connection first, so no log is
// left behind.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reads the database file as it is on disk, without its WAL: only checkpointed pages count. */
function consumerInFileAlone(path: string, id: string): boolean {
  const copy = join(dir, "file-alone.db");
  copyFileSync(path, copy);
  const db = new BetterSqlite3(copy, { readonly: true });
  try {
    return db.prepare("select id from consumers where id = ?").get(id) !== undefined;
  } catch {
    return false; // not even the tables have been checkpointed yet
  } finally {
    db.close();
    rmSync(copy, { force: true });
  }
}

describe("sqlite WAL checkpoints", () => {
  it("moves committed pages into the database file from its worker and leaves no WAL at close", async () => {
    const path = join(dir, "gateway.db");
    const store = await openStore(path);
    await store.createConsumer({ id: "alice", name: "Alice Ltd", createdAt: 5 });
    expect(existsSync(`${path}-wal`)).toBe(true);

    const deadline = Date.now() + 15_000;
    while (!consumerInFileAlone(path, "alice") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(consumerInFileAlone(path, "alice")).toBe(true);

    await store.createConsumer({ id: "bob", name: "Bob", createdAt: 6 });
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = await openStore(path);
    expect((await reopened.getConsumer("bob"))?.name).toBe("Bob");
    await reopened.close();
  });
});
