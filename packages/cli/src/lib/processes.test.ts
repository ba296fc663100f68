// Stopping a network that is still starting, with real child processes.
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Child, lastWords, NodeSet, spawnTessera } from "./processes.js";

/** A node that runs until it is signalled. */
function node(name: string): Child {
  const proc = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { name, proc, logFile: "", logFrom: 0, exited };
}

describe("NodeSet", () => {
  it("stops a node that start-up adds while the stop is under way, and waits for it", async () => {
    const set = new NodeSet();
    const gateway = set.add(node("gateway"));
    const first = set.add(node("provider-1"));
    const stopped = set.stop(5_000);
    // start-up goes on after the signal: its next spawn lands mid-stop
    const late = set.add(node("provider-2"));
    await stopped;
    for (const c of [gateway, first, late]) expect(c.proc.exitCode ?? c.proc.signalCode).not.toBeNull();
    expect(late.proc.signalCode).toBe("SIGTERM");
  });
});

describe("lastWords", () => {
  it("tells why a node died from its own log: its last error, read from this run's lines only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-lastwords-"));
    try {
      const log = join(dir, "gateway.log");
      // an earlier run's lines, with an error of its own
      appendFileSync(log, '{"level":50,"msg":"an old failure"}\n{"level":30,"msg":"gateway listening"}\n');
      // this run: a real tessera process that fails at once on a bad flag
      const child = spawnTessera("gateway", ["gateway", "--port", "not-a-port"], dir);
      expect(await child.exited).not.toBe(0);
      const said = lastWords(child);
      expect(said).toMatch(/port/);
      expect(said).not.toMatch(/old failure/);
      // pino's JSON lines are read by their message and error, the error preferred to later lines
      appendFileSync(
        log,
        '{"level":60,"msg":"store failed","err":{"message":"disk full"}}\n{"level":30,"msg":"closing"}\n',
      );
      expect(lastWords(child)).toBe("store failed: disk full");
      // a log with nothing of this run
      expect(lastWords({ logFile: log, logFrom: Number.MAX_SAFE_INTEGER })).toBeUndefined();
      expect(lastWords({ logFile: join(dir, "missing.log"), logFrom: 0 })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
