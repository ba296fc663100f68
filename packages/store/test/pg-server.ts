// A throwaway PostgreSQL server for a test run: initdb into a temp dir (trust auth), pg_ctl start
// on a free port bound to 127.0.0.1 with its socket in the temp dir, no systemd. When the tests
// run as root the server runs as the `postgres` OS user, since PostgreSQL refuses to run as root.
import { execFile, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface DatabaseOptions {
  /**
   * an ICU locale (e.g. "en-US") for the database's default collation, which text columns
   * declared without one sort and compare by; without it, the server's (C.UTF-8 or the
   * environment's). Needs PostgreSQL 15 or later built with ICU (pgMajorVersion).
   */
  icuLocale?: string;
}

export interface PgServer {
  /** creates a fresh empty database and returns its postgres:// URL */
  createDatabase(options?: DatabaseOptions): Promise<string>;
  stop(): Promise<void>;
}

export const PG_MISSING_MESSAGE =
  "PostgreSQL binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin. " +
  "Install them (apt-get install -y postgresql) or set TESSERA_SKIP_PG=1 to skip the PostgreSQL suite.";

/** Directory of initdb and pg_ctl: $TESSERA_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
export function findPgBin(): string | undefined {
  const fromEnv = process.env.TESSERA_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, "pg_ctl")) ? fromEnv : undefined;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")) && existsSync(join(root, v, "bin", "pg_ctl")))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

/** The major version of the server findPgBin finds (15 for 15.8), or undefined without one. */
export function pgMajorVersion(): number | undefined {
  const bin = findPgBin();
  if (!bin) return undefined;
  const r = spawnSync(join(bin, "pg_ctl"), ["--version"], { encoding: "utf8" });
  const m = /\(PostgreSQL\) (\d+)/.exec(r.stdout ?? "");
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresUser(): { uid: number; gid: number } {
  const r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const g = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (r.status !== 0 || g.status !== 0)
    throw new Error("running as root but there is no `postgres` OS user to run the test server as");
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export async function startPgServer(): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin) throw new Error(PG_MISSING_MESSAGE);
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "tessera-pg-"));
  const data = join(dir, "data");
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }

  const run = (tool: string, args: string[]): Promise<string> => {
    const [cmd, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]]
      : [join(bin, tool), args];
    return new Promise((resolve, reject) => {
      execFile(cmd, argv, { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${tool} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      });
    });
  };
  const stopSync = () => {
    const argv = ["-D", data, "-m", "immediate", "-w", "stop"];
    if (asRoot) spawnSync("runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), ...argv], { stdio: "ignore" });
    else spawnSync(join(bin, "pg_ctl"), argv, { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await run("initdb", ["-D", data, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync"]);
    let port = 0;
    for (let tries = 0; ; tries++) {
      port = await freePort();
      // durability off: this server lives for one test run
      const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        await run("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"]);
        break;
      } catch (e) {
        if (tries >= 2) throw e; // the port may have been taken between probing and binding
      }
    }
    process.once("exit", stopSync);

    const base = `postgres://postgres@127.0.0.1:${port}`;
    const admin = new pg.Client({ connectionString: `${base}/postgres` });
    await admin.connect();
    let n = 0;
    return {
      async createDatabase(options = {}) {
        const name = `tessera_test_${++n}`;
        const { icuLocale } = options;
        if (icuLocale === undefined) await admin.query(`create database ${name}`);
        else {
          if (!/^[A-Za-z0-9_-]+$/.test(icuLocale)) throw new Error(`not an ICU locale name: ${icuLocale}`);
          // template0: template1's collation is the server's, and a copy must keep its template's
          await admin.query(`create database ${name} locale_provider icu icu_locale '${icuLocale}' template template0`);
        }
        return `${base}/${name}`;
      },
      async stop() {
        process.removeListener("exit", stopSync);
        await admin.end().catch(() => {});
        stopSync();
      },
    };
  } catch (e) {
    stopSync();
    throw e;
  }
}
