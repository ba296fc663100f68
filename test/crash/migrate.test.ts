// SQLite migrations are all-or-nothing and one process at a time: a gateway killed while it
// migrates a new or older database leaves one that the next start migrates, and gateways
// starting together on a new file do not race to create the same tables. The child process
// (migrate-child.ts) stops at a chosen SQL statement of its migration, so the points are exact.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openStore } from "@tessera/store";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type Proc, spawnScript, until } from "../helpers/processes.js";

const CHILD = resolve(import.meta.dirname, "migrate-child.ts");
const dir = mkdtempSync(join(tmpdir(), "tessera-migrate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(dir, `run-${n++}`);
  return { db: join(d, "gateway.db"), log: join(d, "statements.log"), release: join(d, "release") };
};

function child(db: string, log: string, ...mode: string[]): Proc {
  return spawnScript("migrate-child", CHILD, [db, log, ...mode], { ipc: false });
}

/** tables and indexes of a database file, as sqlite_master names them */
function schema(db: string): string[] {
  const d = new BetterSqlite3(db);
  try {
    const rows = d.prepare("select type || ' ' || name as o from sqlite_master order by 1").all() as { o: string }[];
    return rows.map((r) => r.o);
  } finally {
    d.close();
  }
}

/** Migrates a new file once without stopping: how many statements that takes, and the schema. */
let migrated: Promise<{ statements: number; schema: string[] }> | undefined;
const reference = () => {
  migrated ??= migrateOnce();
  return migrated;
};
async function migrateOnce(): Promise<{ statements: number; schema: string[] }> {
  const f = fresh();
  const p = child(f.db, f.log);
  expect(await p.exited, p.output()).toBe(0);
  const statements = Number(/done (\d+)/.exec(p.output())?.[1]);
  expect(statements).toBeGreaterThan(10);
  return { statements, schema: schema(f.db) };
}

describe("SQLite migrations", () => {
  it("leave nothing or everything when the process is killed at any statement, and the next open migrates", async () => {
    const ref = await reference();
    // kill points spread over the whole run, the first and the last included
    const points = [...new Set(Array.from({ length: 7 }, (_, i) => 1 + Math.round((i * (ref.statements - 1)) / 6)))];
    for (const at of points) {
      const f = fresh();
      const p = child(f.db, f.log, "kill", String(at));
      expect(await p.exited, `kill at ${at}: ${p.output()}`).toBeNull(); // died by the signal
      expect(readFileSync(f.log, "utf8")).toContain(`after ${at}\n`);
      const left = schema(f.db);
      expect([[], ref.schema], `killed after statement ${at}, the file holds ${left.join(", ")}`).toContainEqual(left);
      const store = await openStore(f.db);
      await store.close();
      expect(schema(f.db)).toEqual(ref.schema);
    }
  }, 240_000);

  it("run one process at a time: one started while another is midway waits for it, then finds it done", async () => {
    const ref = await reference();
    const f = fresh();
    const second = { log: `${f.log}.2` };
    const first = child(f.db, f.log, "pause", String(Math.floor(ref.statements / 2)), f.release);
    await until(
      "the first process to stop midway",
      () => existsSync(f.log) && /^paused /m.test(readFileSync(f.log, "utf8")),
    );
    const other = child(f.db, second.log);
    // it either waits for the first (its next statement takes the write lock) or, without that
    // lock, runs the same migration beside the half-done one
    await until(
      "the second process to reach the lock or end",
      () =>
        other.child.exitCode !== null ||
        (existsSync(second.log) && /^before \d+ begin immediate$/m.test(readFileSync(second.log, "utf8"))),
    );
    writeFileSync(f.release, "");
    expect(await first.exited, first.output()).toBe(0);
    expect(await other.exited, other.output()).toBe(0);
    expect(schema(f.db)).toEqual(ref.schema);
  }, 120_000);

  it("let four processes open a new file at once", async () => {
    const f = fresh();
    const procs = Array.from({ length: 4 }, (_, i) => child(f.db, `${f.log}.${i}`));
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes, procs.map((p) => p.output()).join("\n")).toEqual([0, 0, 0, 0]);
  }, 120_000);
});
