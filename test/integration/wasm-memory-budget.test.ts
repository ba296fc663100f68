// The provider's WASM memory budget (--wasm-memory-budget) with real processes: a job within it
// runs, a job whose memory limit is larger than the whole budget fails with a reason that names
// it (it does not hang), and a bad budget stops the provider at start-up naming the flag.
import { join } from "node:path";
import { loadBuiltinModule } from "@tessera/runtimes";
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTessera, TestNetwork } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("provider WASM memory budget", () => {
  const net = new TestNetwork();
  let client: TesseraClient;
  let reverse: string;

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ runtimes: ["wasm"], extra: ["--wasm-memory-budget", "100"] });
    await net.waitForProviders(1);
    client = (await net.consumer()).client;
    reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  }, 120_000);
  afterAll(() => net.stop());

  it("runs a job within the budget and fails one whose memory limit is larger than the whole budget, saying so", async () => {
    const fits = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("fits") },
      limits: { timeoutMs: 10_000, maxMemoryMb: 64 },
    });
    expect((await client.waitForJob(fits.id)).status).toBe("completed");

    const huge = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("huge") },
      limits: { timeoutMs: 10_000, maxMemoryMb: 128 },
    });
    const done = await client.waitForJob(huge.id);
    expect(done.status).toBe("failed");
    expect(done.error).toContain(
      "the wasm job's memory limit of 128 MiB exceeds this provider's WASM memory budget of 100 MiB (--wasm-memory-budget)",
    );
  });

  it("refuses to start with a budget that is not a positive number of MiB, naming the flag", async () => {
    const p = spawnTessera("provider-bad-budget", [
      "provider",
      "--gateway",
      `ws://127.0.0.1:${net.port}`,
      "--price",
      "1",
      "--runtimes",
      "wasm",
      "--data-dir",
      join(net.dir, "bad-budget"),
      "--wasm-memory-budget",
      "0",
    ]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain("tessera provider: invalid --wasm-memory-budget: must be at least 1 MiB");
  });
});
