import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { validateJobModule } from "./abi.js";
import { webAssembly } from "./engine.js";
import { BUILTIN_MODULES, buildModules, loadBuiltinModule } from "./modules.js";

describe("built-in modules", () => {
  it("build to the same bytes (and sha256) every time", async () => {
    const first = await buildModules();
    const second = await buildModules();
    for (const name of BUILTIN_MODULES) {
      expect(sha256Hex(second[name])).toBe(sha256Hex(first[name]));
      expect(sha256Hex(await loadBuiltinModule(name))).toBe(sha256Hex(first[name]));
    }
  });

  it("compile and keep the job-module ABI", async () => {
    const built = await buildModules();
    for (const name of BUILTIN_MODULES) {
      await expect(webAssembly.compile(built[name])).resolves.toBeDefined();
      expect(validateJobModule(built[name])).toEqual({ minPages: 1 });
    }
  });

  it("are written as <name>.wasm into an output directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-wasm-"));
    try {
      const built = await buildModules(dir);
      for (const name of BUILTIN_MODULES) {
        expect(new Uint8Array(await readFile(join(dir, `${name}.wasm`)))).toEqual(built[name]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("hands each caller its own copy", async () => {
    const a = await loadBuiltinModule("reverse");
    a.fill(0);
    expect((await loadBuiltinModule("reverse"))[0]).toBe(0); // magic "\0asm"
    expect((await loadBuiltinModule("reverse"))[1]).toBe(0x61);
  });
});
