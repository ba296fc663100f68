import * as fs from "node:fs";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadOrCreateKeyFile } from "./identity.js";

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

describe("creating a key file", () => {
  // the empty provider-key.json left by ENOSPC made every later start fail with
  // "is not a Tessera key file: not JSON" until someone deleted it
  it("leaves nothing behind when the write fails, so the next start creates the key", () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-key-"));
    const path = join(dir, "provider-key.json");
    diskFull = true;
    expect(() => loadOrCreateKeyFile(path)).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
    diskFull = false;
    const identity = loadOrCreateKeyFile(path);
    expect(loadOrCreateKeyFile(path).id).toBe(identity.id);
    expect(readdirSync(dir)).toEqual(["provider-key.json"]);
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
  });
});
