import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { GATEWAY_NODE_FLAGS, nodeFlagsFor } from "./node-flags.js";
import { spawnTessera, stopAll } from "./processes.js";

describe("node flags of tessera processes", () => {
  test("only the gateway gets a smaller young generation", () => {
    expect(nodeFlagsFor(["gateway", "--port", "0"])).toEqual(["--max-semi-space-size=4"]);
    expect(nodeFlagsFor(["provider", "--gateway", "ws://x"])).toEqual([]);
    expect(nodeFlagsFor([])).toEqual([]);
  });

  test("a gateway that `tessera up` spawns runs node with the gateway's flags", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-flags-"));
    const gw = spawnTessera("gateway", ["gateway", "--port", "0", "--db", join(dir, "g.db")], dir);
    try {
      // its output goes straight to its log file
      let exit: number | null | undefined;
      void gw.exited.then((code) => {
        exit = code;
      });
      while (!readFileSync(gw.logFile, "utf8").includes("listening")) {
        if (exit !== undefined) throw new Error(`gateway exited with ${exit}: ${readFileSync(gw.logFile, "utf8")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const argv = readFileSync(`/proc/${gw.proc.pid}/cmdline`, "utf8").split("\0");
      expect(argv.slice(1, 1 + GATEWAY_NODE_FLAGS.length)).toEqual(GATEWAY_NODE_FLAGS);
    } finally {
      await stopAll([gw], 2_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
