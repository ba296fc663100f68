import { totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import { ProviderConfigError, parseProviderConfig } from "./config.js";

const base = { gateway: "ws://127.0.0.1:8787", keyFile: "k.json", region: "eu-west", price: 5 };

describe("parseProviderConfig", () => {
  it("fills defaults", () => {
    expect(parseProviderConfig(base)).toMatchObject({
      models: [],
      tinyModel: false,
      concurrency: 1,
      dataDir: ".tessera",
      reconnectInitialMs: 200,
      reconnectMaxMs: 10_000,
    });
  });

  it.each([
    [{ price: 1.5 }, "--price"],
    [{ price: Number.NaN }, "--price"],
    [{ price: -1 }, "--price"],
    [{ region: "Not A Region" }, "--region"],
    [{ gateway: "localhost:8787" }, "--gateway"],
    [{ concurrency: 0 }, "--concurrency"],
    [{ threads: 0 }, "--threads"],
    [{ runtimes: ["onnx"] }, "--runtimes"],
    [{ keyFile: "" }, "--key"],
    [{ dataDir: "" }, "--data-dir"],
    [{ wasmMemoryBudgetMb: 0 }, "--wasm-memory-budget"],
    [{ wasmMemoryBudgetMb: 1.5 }, "--wasm-memory-budget"],
    [{ wasmMemoryBudgetMb: Number.NaN }, "--wasm-memory-budget"],
  ])("names the flag of a bad setting (%o)", (patch, flag) => {
    const run = () => parseProviderConfig({ ...base, ...(patch as object) });
    expect(run).toThrow(ProviderConfigError);
    expect(run).toThrow(`invalid ${flag}:`);
  });

  it("defaults the WASM memory budget to half of this machine's memory", () => {
    expect(parseProviderConfig(base).wasmMemoryBudgetMb).toBe(Math.floor(totalmem() / 2 / 2 ** 20));
    expect(parseProviderConfig({ ...base, wasmMemoryBudgetMb: 512 }).wasmMemoryBudgetMb).toBe(512);
  });

  it("refuses a WASM memory budget larger than this machine's memory, saying both", () => {
    const machineMb = Math.floor(totalmem() / 2 ** 20);
    expect(() => parseProviderConfig({ ...base, wasmMemoryBudgetMb: machineMb + 1 })).toThrow(
      `invalid --wasm-memory-budget: ${machineMb + 1} MiB is more than this machine's ${machineMb} MiB of memory`,
    );
  });
});
