// Checkpoints a SQLite WAL from its own thread and connection, so that copying the log back into
// the database file (and its fsyncs) never runs inside a commit on the gateway's event loop.
// Plain JavaScript so that it loads without a TypeScript loader in the worker.
//
// workerData: { path, intervalMs, restartFrames, control } where control is an Int32Array over a
// SharedArrayBuffer: [STOP, CLOSED]. The owner sets STOP and waits for CLOSED (see sqlite.ts).
import { workerData } from "node:worker_threads";

const STOP = 0;
const CLOSED = 1;
const { path, intervalMs, restartFrames, control } = workerData;

let db;
try {
  // loaded here so that CLOSED is set even when it cannot be: the owner waits for it
  const { default: Database } = await import("better-sqlite3");
  db = new Database(path);
  // RESTART waits for the writer's current transaction; a PASSIVE checkpoint never waits.
  db.pragma("busy_timeout = 1000");
  const dataVersion = db.prepare("PRAGMA data_version").pluck();
  const passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  const restart = db.prepare("PRAGMA wal_checkpoint(RESTART)");
  // the first round always checkpoints: the owner may have committed before this thread began
  let seen;
  while (Atomics.wait(control, STOP, 0, intervalMs) !== "not-equal" && Atomics.load(control, STOP) === 0) {
    // data_version moves only when another connection commits: an idle store costs one read
    const now = dataVersion.get();
    if (now === seen) continue;
    seen = now;
    try {
      const [result] = passive.all();
      // A PASSIVE checkpoint cannot restart the log; under steady writes some frame always lands
      // while it copies, so the log would only grow. Past a bound, restart it (writers wait for
      // the few frames left, not for the whole copy).
      if (result && result.log > restartFrames) restart.all();
    } catch (err) {
      // the writer held on past busy_timeout: the next round tries again
      if (err?.code !== "SQLITE_BUSY") throw err;
    }
  }
} finally {
  db?.close();
  Atomics.store(control, CLOSED, 1);
  Atomics.notify(control, CLOSED);
}
