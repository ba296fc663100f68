// Child processes of `tessera up`: each node runs as its own OS process with its own log file,
// and all of them are stopped (politely, then firmly) when the parent stops, or stop themselves
// when it dies (TESSERA_PARENT_PID, lib/parent-watch.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { nodeFlagsFor, TESSERA_BIN } from "./node-flags.js";
import { PARENT_PID_ENV } from "./parent-watch.js";

export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  /** where this run's lines begin in the log: a restarted network appends to the same files */
  logFrom: number;
  exited: Promise<number | null>;
}

export function spawnTessera(name: string, args: string[], logDir: string, env: NodeJS.ProcessEnv = {}): Child {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  // the file itself, not a pipe through this process: the log outlives a parent that dies first
  const log = openSync(logFile, "a");
  const logFrom = fstatSync(log).size;
  let proc: ChildProcess;
  try {
    proc = spawn(process.execPath, [...nodeFlagsFor(args), TESSERA_BIN, ...args], {
      stdio: ["ignore", log, log],
      env: { ...process.env, [PARENT_PID_ENV]: String(process.pid), ...env },
      // Its own process group: a terminal's Ctrl-C signals the whole foreground group, and a
      // provider that got SIGINT from the terminal and then SIGTERM from `up` would take the
      // second signal as "exit now" instead of draining. `up` alone decides how its nodes stop.
      detached: true,
    });
  } finally {
    closeSync(log); // the child holds its own copy
  }
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { name, proc, logFile, logFrom, exited };
}

/** The most telling line a node wrote before it died: its last error, else its last line. */
export function lastWords(child: Pick<Child, "logFile" | "logFrom">, tailBytes = 8192): string | undefined {
  let text: string;
  try {
    const fd = openSync(child.logFile, "r");
    try {
      const size = fstatSync(fd).size;
      const from = Math.max(child.logFrom, size - tailBytes);
      const buf = Buffer.alloc(size - from);
      readSync(fd, buf, 0, buf.length, from);
      text = buf.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map(readable);
  return [...lines].reverse().find((l) => l.error)?.text ?? lines.at(-1)?.text;
}

/** A log line as a person reads it: pino's JSON lines by their message (and error), others as they are. */
function readable(line: string): { text: string; error: boolean } {
  if (line.startsWith("{")) {
    try {
      const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const msg = [j.msg, j.err?.message].filter((s) => typeof s === "string" && s.length > 0).join(": ");
      if (msg) return { text: msg, error: (j.level ?? 0) >= 50 };
    } catch {
      // not JSON after all: shown as written
    }
  }
  return { text: line, error: /^(error|fatal)\b/i.test(line) };
}

/** SIGTERM (providers drain), then SIGKILL whatever is still alive after the grace period. */
export async function stopAll(children: Child[], graceMs = 15_000): Promise<void> {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
  }, graceMs);
  await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Resolves when nothing listens on the loopback port (0 = any port will do), else says who to stop. */
export function portFree(port: number, flag = "--port", holder = "another tessera up?"): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolvePort, reject) => {
    const probe = createServer()
      .once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new Error(
            e.code === "EADDRINUSE"
              ? `port ${port} is in use (${holder}); stop it or pass ${flag}`
              : `cannot listen on port ${port}: ${e.message}`,
          ),
        ),
      )
      .listen(port, "127.0.0.1", () => probe.close(() => resolvePort()));
  });
}

/**
 * The nodes of a network that may be stopped while it is still starting: once a stop begins, a
 * node started afterwards (its spawn was under way) is stopped at once, and the stop waits for it
 * too, so nothing the network started outlives it.
 */
export class NodeSet {
  readonly nodes: Child[] = [];
  private stopping = false;

  add(child: Child): Child {
    this.nodes.push(child);
    if (this.stopping && child.proc.exitCode === null) child.proc.kill("SIGTERM");
    return child;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Providers first (they drain), then the gateway, then whatever start-up added meanwhile. */
  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    await stopAll(
      this.nodes.filter((c) => c.name !== "gateway"),
      graceMs,
    );
    await stopAll(
      this.nodes.filter((c) => c.name === "gateway"),
      graceMs,
    );
    for (let seen = -1; seen !== this.nodes.length; ) {
      seen = this.nodes.length;
      await stopAll([...this.nodes], graceMs);
    }
  }
}
