// A process that opens (and so migrates) a SQLite store, for migrate.test.ts. It numbers the SQL
// statements the store runs and appends "before <n> <sql>" and "after <n>" lines to a log file
// (synchronously, so the log is whole up to the moment the process dies). At statement `at` it
// either SIGKILLs itself ("kill") or waits, blocking as a busy process would, until `release`
// exists ("pause"). Prints "done <statements>" once the store is open.
// usage: tsx migrate-child.ts <db> <log> [kill <at> | pause <at> <release>]
import { appendFileSync, existsSync } from "node:fs";
import { openStore } from "@tessera/store";
import BetterSqlite3 from "better-sqlite3";

const [db, log, mode, atArg, release] = process.argv.slice(2);
if (!db || !log) throw new Error("usage: migrate-child.ts <db> <log> [kill <at> | pause <at> <release>]");
const at = Number(atArg ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function reached(n: number): void {
  appendFileSync(log as string, `after ${n}\n`);
  if (n !== at) return;
  if (mode === "kill") process.kill(process.pid, "SIGKILL");
  if (mode === "pause") {
    appendFileSync(log as string, `paused ${n}\n`);
    while (!existsSync(release as string)) Atomics.wait(sleeper, 0, 0, 20);
  }
}

// the store's connection prepares its statements from this same better-sqlite3 (pragmas it sets
// at open go through another path and are not counted)
const probe = new BetterSqlite3(":memory:");
const Statement = Object.getPrototypeOf(probe.prepare("select 1")) as {
  run(...a: unknown[]): unknown;
  all(...a: unknown[]): unknown;
  source: string;
};
probe.close();
let n = 0;
for (const method of ["run", "all"] as const) {
  const original = Statement[method];
  Statement[method] = function (this: typeof Statement, ...args: unknown[]) {
    const i = ++n;
    appendFileSync(log, `before ${i} ${this.source.replace(/\s+/g, " ")}\n`);
    const r = original.apply(this, args);
    reached(i);
    return r;
  };
}

const store = await openStore(db);
await store.close();
process.stdout.write(`done ${n}\n`);
