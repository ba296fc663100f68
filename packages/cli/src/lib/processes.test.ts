// Stopping a network that is still starting, with real child processes.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type Child, NodeSet } from "./processes.js";

/** A node that runs until it is signalled. */
function node(name: string): Child {
  const proc = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { name, proc, logFile: "", exited };
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
