import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTinyModel } from "@tessera/runtimes";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderConfigError, parseProviderConfig } from "./config.js";
import { createDefaultRuntimes, resolveModelPaths } from "./runtimes.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("resolveModelPaths", () => {
  it("names the file and --models when a model file is not GGUF", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-models-"));
    const good = join(dir, "good.gguf");
    const bad = join(dir, "bad.gguf");
    writeFileSync(good, Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(16)]));
    writeFileSync(bad, "not a model\n");
    const config = (models: string[]) =>
      parseProviderConfig({ gateway: "ws://127.0.0.1:8787", keyFile: "k.json", region: "local", price: 1, models });
    expect(await resolveModelPaths(config([good]))).toEqual([good]);
    const err = await resolveModelPaths(config([good, bad])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toBe(
      `invalid --models: ${bad} is not a GGUF model file (it starts with "not ", not "GGUF")`,
    );
  });
});

describe("resolveModelPaths with --tiny-model", () => {
  // said only "ENOTDIR: not a directory, mkdir '…/models'" (or "ENOSPC: no space left on device, write")
  it("names --data-dir and the directory when the tiny model cannot be written", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-models-"));
    const notADir = join(dir, "file");
    writeFileSync(notADir, "");
    const config = parseProviderConfig({
      gateway: "ws://127.0.0.1:8787",
      keyFile: "k.json",
      region: "local",
      price: 1,
      tinyModel: true,
      dataDir: join(notADir, "data"),
    });
    const err = await resolveModelPaths(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderConfigError);
    const named = `invalid --data-dir: cannot write the tiny model (--tiny-model) under ${join(notADir, "data", "models")}: ENOTDIR`;
    expect((err as Error).message.slice(0, named.length)).toBe(named);
  });
});

describe("createDefaultRuntimes", () => {
  // llama.cpp said only "Failed to load model" (or the GGUF reader "Cannot read properties of
  // undefined (reading 'architecture')"), naming neither the file nor the flag
  it("names the file and --models when a GGUF model file is truncated or corrupt", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-models-"));
    const whole = readFileSync(await ensureTinyModel(dir));
    const cut = join(dir, "cut.gguf");
    const headerOnly = join(dir, "header-only.gguf");
    writeFileSync(cut, whole.subarray(0, 100_000));
    writeFileSync(headerOnly, whole.subarray(0, 8));
    for (const path of [cut, headerOnly]) {
      const config = parseProviderConfig({
        gateway: "ws://127.0.0.1:8787",
        keyFile: "k.json",
        region: "local",
        price: 1,
        models: [path],
        runtimes: ["llm"],
      });
      const err = await createDefaultRuntimes(config, {
        blobs: { get: () => Promise.reject(new Error("no blobs here")) },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderConfigError);
      const named = `invalid --models: cannot load the model file ${path} `;
      expect((err as Error).message.slice(0, named.length)).toBe(named);
    }
  }, 60_000);
});
