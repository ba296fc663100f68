import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { binNodeFlags, TESSERA_BIN } from "./node-flags.js";

describe("node flags of tessera processes", () => {
  test("the bin's shebang carries the V8 flags that keep a gateway's memory flat", () => {
    expect(binNodeFlags()).toEqual(["--max-semi-space-size=4", "--heap-growing-percent=50"]);
  });

  test("a gateway started through the bin's shebang (as npx starts it) runs node with those flags", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-flags-"));
    const gw = spawn(TESSERA_BIN, ["gateway", "--port", "0", "--db", join(dir, "g.db")], { stdio: "pipe" });
    try {
      await new Promise<void>((resolve, reject) => {
        gw.stdout.on("data", (d) => String(d).includes("listening") && resolve());
        gw.on("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
      });
      const argv = readFileSync(`/proc/${gw.pid}/cmdline`, "utf8").split("\0");
      expect(argv.slice(0, 3)).toEqual(["node", ...binNodeFlags()]);
      expect(argv[3]).toBe(TESSERA_BIN);
    } finally {
      gw.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
