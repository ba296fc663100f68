// Preload (`node --import bench/lib/sqlite-commit-timing.mjs`) that times every COMMIT a process
// runs through better-sqlite3 and writes the durations (ms, a JSON array) to
// $TESSERA_COMMIT_TIMING_FILE when the process exits. SQLite's own WAL checkpoint runs inside the
// commit that crosses its threshold, so it shows in the tail of this distribution.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isMainThread } from "node:worker_threads";

const out = process.env.TESSERA_COMMIT_TIMING_FILE;
// worker threads run preloads too; the commits are the main thread's
if (out && isMainThread) {
  const Database = createRequire(import.meta.url)("better-sqlite3");
  const ms = [];
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (sql) {
    const stmt = prepare.call(this, sql);
    if (!/^\s*commit\b/i.test(sql)) return stmt;
    const run = stmt.run;
    stmt.run = function (...args) {
      const t = performance.now();
      try {
        return run.apply(this, args);
      } finally {
        ms.push(performance.now() - t);
      }
    };
    return stmt;
  };
  process.on("exit", () => writeFileSync(out, JSON.stringify(ms)));
}
