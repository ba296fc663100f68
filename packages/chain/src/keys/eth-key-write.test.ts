import * as fs from "node:fs";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadOrCreateEthKey } from "./eth-key.js";

// A full disk: the file is created, then the write fails, as writeFileSync does on ENOSPC.
let diskFull = false;
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const writeFileSync: typeof real.writeFileSync = (file, data, options) => {
    if (!diskFull) return real.writeFileSync(file, data, options);
    real.writeFileSync(file, "", options);
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };
  return { ...real, writeFileSync, default: { ...real, writeFileSync } };
});

let dir: string | undefined;
afterEach(() => {
  diskFull = false;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("creating an --eth-key file", () => {
  // the empty file left by ENOSPC made every later start fail with "cannot read key file
  // (Unexpected end of JSON input)" until someone deleted it
  it("leaves nothing behind when the write fails, so the next start creates the key", () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-eth-key-"));
    const file = join(dir, "eth-key.json");
    diskFull = true;
    expect(() => loadOrCreateEthKey(file)).toThrow(`--eth-key ${file}: cannot create key file (ENOSPC`);
    expect(readdirSync(dir)).toEqual([]);
    diskFull = false;
    const { address } = loadOrCreateEthKey(file);
    expect(loadOrCreateEthKey(file).address).toBe(address);
    expect(readdirSync(dir)).toEqual(["eth-key.json"]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
