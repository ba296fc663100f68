// Real child processes for the tests and the benches: a free loopback port, a node process with
// its output kept for error messages, the `tessera` CLI started the way an operator starts it,
// a TypeScript helper script run through tsx, and polling until something holds.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { nodeFlagsFor, TESSERA_BIN } from "../../packages/cli/src/lib/node-flags.js";

export const REPO = resolve(import.meta.dirname, "../..");
/** output kept per process: the tail, so a long bench run does not grow without bound */
const OUTPUT_KEEP = 1024 * 1024;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no free port"))));
    });
  });
}

/** Polls `probe` every 100 ms until it gives something other than undefined or false. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Proc {
  name: string;
  child: ChildProcess;
  /** stdout and stderr as they came (the last MiB) */
  output(): string;
  exited: Promise<number | null>;
  /** sends `signal` (SIGTERM by default) and waits for the exit */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** an IPC channel (firstMessage, child.send) */
  ipc?: boolean;
  /** its own process group, so a test can signal the group as a terminal's Ctrl-C does */
  detached?: boolean;
}

/** Starts `command argv…` in the repository root. */
export function spawnProcess(
  name: string,
  command: string,
  argv: string[],
  opts: Omit<SpawnOptions, "nodeArgs"> = {},
): Proc {
  const child = spawn(command, argv, {
    cwd: REPO,
    stdio: opts.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
    detached: opts.detached,
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2 * OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => out.slice(-OUTPUT_KEEP),
    exited,
    async kill(signal = "SIGTERM") {
      if (alive()) child.kill(signal);
      return exited;
    },
    async stop(graceMs = 10_000) {
      if (!alive()) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => alive() && child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Starts `node [nodeArgs] script [args]` in the repository root. */
export function spawnNode(name: string, script: string, args: string[], opts: SpawnOptions = {}): Proc {
  const { nodeArgs = [], ...rest } = opts;
  return spawnProcess(name, process.execPath, [...nodeArgs, script, ...args], rest);
}

/** `tessera <args…>` with the node flags that command runs with (node-flags.ts), plus `opts`. */
export function spawnTessera(name: string, args: string[], opts: Omit<SpawnOptions, "ipc"> = {}): Proc {
  return spawnNode(name, TESSERA_BIN, args, { ...opts, nodeArgs: [...nodeFlagsFor(args), ...(opts.nodeArgs ?? [])] });
}

/** A TypeScript script run as its own process through tsx, with an IPC channel unless told otherwise. */
export function spawnScript(name: string, script: string, args: string[], opts: SpawnOptions = {}): Proc {
  return spawnNode(name, script, args, { ipc: true, ...opts, nodeArgs: ["--import", "tsx", ...(opts.nodeArgs ?? [])] });
}

/** The first IPC message a spawned script sends (e.g. its port, or "ready"). */
export function firstMessage<T>(proc: Proc, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${proc.name} sent nothing in time: ${proc.output()}`)), timeoutMs);
    proc.child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    void proc.exited.then((code) => reject(new Error(`${proc.name} exited (${code}): ${proc.output()}`)));
  });
}

/** Whether a process is running (not gone, not a zombie awaiting its parent), from /proc (Linux). */
export const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

/** The pids a process started, with their command lines, from /proc (Linux). */
export function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const list = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  if (!list) return [];
  return list
    .split(/\s+/)
    .map(Number)
    .map((p) => ({ pid: p, cmd: readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ") }));
}
