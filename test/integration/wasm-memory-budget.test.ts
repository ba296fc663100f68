// The provider's WASM memory budget (--wasm-memory-budget) with real processes: a job within it
// runs, a job whose memory limit is larger than every budget online is refused at submit naming
// the largest (it does not hang), or queued under a price ceiling, and a bad budget stops the
// provider at start-up naming the flag.
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

  it("runs a job within the budget and refuses one whose memory limit is larger than the whole budget, saying so", async () => {
    const fits = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("fits") },
      limits: { timeoutMs: 10_000, maxMemoryMb: 64 },
    });
    expect((await client.waitForJob(fits.id)).status).toBe("completed");

    // larger than any budget online: refused at submit, naming the largest (no node would take it)
    const huge = {
      runtime: "wasm" as const,
      module: reverse,
      input: { data: b64("huge") },
      limits: { timeoutMs: 10_000, maxMemoryMb: 128 },
    };
    const refused = await client.submitJob(huge).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503 });
    expect((refused as Error).message).toContain(
      "No provider online can give a WASM job 128 MiB of memory (the largest WASM memory budget online is 100 MiB)",
    );
    // under a price ceiling it queues for a node with the memory, as that answer says, on a gateway
    // no wasm node has left since it started; this one is never leased here
    const queued = await client.submitJob({ ...huge, constraints: { maxPricePerUnit: 1 } });
    expect(queued.status).toBe("queued");
    expect((await client.cancelJob(queued.id)).status).toBe("cancelled");
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
