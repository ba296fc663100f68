import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generateIdentity, loadKeyFile, loadOrCreateKeyFile, saveKeyFile } from "./identity.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
function tempFile(name = "key.json"): string {
  dir ??= mkdtempSync(join(tmpdir(), "tessera-identity-"));
  return join(dir, name);
}

/** What loading the file throws, or undefined when it loads. */
function loadError(path: string): string | undefined {
  try {
    loadKeyFile(path);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("loadKeyFile", () => {
  it("loads what saveKeyFile wrote, without a warning for its 0600 mode", () => {
    const path = tempFile();
    const identity = generateIdentity();
    saveKeyFile(path, identity);
    const warnings: string[] = [];
    expect(loadKeyFile(path, { onWarning: (m) => warnings.push(m) }).id).toBe(identity.id);
    expect(warnings).toEqual([]);
  });

  it("says in one line, naming the file, that a file with the wrong fields is not a key file", () => {
    const path = tempFile();
    writeFileSync(path, '{"a":1}');
    const message = loadError(path);
    expect(message).toMatch(new RegExp(`^${path} is not a Tessera key file: .*type`));
    expect(message).not.toContain("\n");
  });

  it("says a truncated private key is not a key, naming the file, without an OpenSSL code", () => {
    const path = tempFile();
    saveKeyFile(path, generateIdentity());
    const file = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...file, privateKey: file.privateKey.slice(0, 20) }));
    const message = loadError(path);
    expect(message).toMatch(new RegExp(`^${path} is not a Tessera key file: privateKey`));
    expect(message).not.toMatch(/asn1|error:/);
    expect(message).not.toContain("\n");
  });

  it("names the file when it is not JSON or its keys do not match", () => {
    const path = tempFile();
    writeFileSync(path, "not json");
    expect(loadError(path)).toBe(`${path} is not a Tessera key file: not JSON`);
    saveKeyFile(path, generateIdentity());
    const file = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...file, publicKey: generateIdentity().id }));
    expect(loadError(path)).toBe(`${path} is not a Tessera key file: publicKey does not match privateKey`);
  });

  it.skipIf(process.platform === "win32")(
    "warns, naming the file and its mode, when group or others can read the key",
    () => {
      const path = tempFile();
      const identity = generateIdentity();
      saveKeyFile(path, identity);
      chmodSync(path, 0o644);
      const warnings: string[] = [];
      expect(loadOrCreateKeyFile(path, { onWarning: (m) => warnings.push(m) }).id).toBe(identity.id);
      expect(warnings).toEqual([`key file ${path} is readable by group or others (mode 0644); run chmod 600 ${path}`]);
    },
  );
});
