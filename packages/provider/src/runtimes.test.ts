import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderConfigError, parseProviderConfig } from "./config.js";
import { resolveModelPaths } from "./runtimes.js";

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
