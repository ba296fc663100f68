// SIGTERM (or Ctrl-C) reaching `tessera provider` while it is still starting: it said nothing and
// died by the signal, as no handler was installed until start-up (models loaded) was over. Now it
// says it was stopped during start-up and exits 0, as a stopped provider does.
//
// Start-up is held at a known point without timing: the --eth-key file is a FIFO, which the
// provider reads (synchronously) before loading anything; our open for writing returns only once
// it is reading, and it goes on when we write the key.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, spawnTessera } from "../helpers/network.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Hardhat's well-known account #0: any valid key does
const KEY = {
  type: "tessera-secp256k1",
  address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  privateKey: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
};

describe.skipIf(process.platform === "win32")("tessera provider signalled during start-up", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal}: says so and exits 0`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "tessera-start-signal-"));
      dirs.push(dir);
      const fifo = join(dir, "eth-key.json");
      execFileSync("mkfifo", [fifo]);
      // nothing listens there: start-up does not wait for the gateway
      const gateway = `ws://127.0.0.1:${await freePort()}`;
      const p = spawnTessera("provider", [
        "provider",
        "--price",
        "1",
        "--gateway",
        gateway,
        "--data-dir",
        join(dir, "data"),
        "--tiny-model",
        "--eth-key",
        fifo,
      ]);
      const writer = await open(fifo, "w"); // returns once the provider is reading its key
      p.child.kill(signal);
      await writer.write(JSON.stringify(KEY)).catch(() => undefined);
      await writer.close().catch(() => undefined);
      const code = await p.exited;
      expect(p.output()).toContain(`tessera provider: ${signal} during start-up`);
      expect(p.output()).toContain("tessera provider: stopped during start-up");
      expect(code, p.output()).toBe(0);
    }, 120_000);
  }
});
