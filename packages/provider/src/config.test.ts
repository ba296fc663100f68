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
  ])("names the flag of a bad setting (%o)", (patch, flag) => {
    const run = () => parseProviderConfig({ ...base, ...(patch as object) });
    expect(run).toThrow(ProviderConfigError);
    expect(run).toThrow(`invalid ${flag}:`);
  });
});
