// The owner wants the machine back: SIGUSR2 pauses a real `tessera provider` process. Its
// running batch lease is given back and resumes on another provider, billed once; nothing new
// is leased to it while paused; a second SIGUSR2 resumes it and it takes work again.
import { setTimeout as sleep } from "node:timers/promises";
import { loadBuiltinModule } from "@tessera/runtimes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (data: string) => Buffer.from(data, "base64").toString("utf8");

describe("a provider paused by its owner", () => {
  const net = new TestNetwork();
  const procs = new Map<string, Proc>();

  beforeAll(async () => {
    await net.startGateway();
    for (const region of ["north", "south"]) procs.set(region, await net.startProvider({ region, concurrency: 1 }));
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(() => net.stop());

  it("gives its batch lease back, takes nothing while paused, and works again once resumed", async () => {
    const { client } = await net.consumer();
    const before = await client.account();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const long = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: b64("10000000") },
      limits: { timeoutMs: 300_000, maxMemoryMb: 64 },
    });
    await until("the long job running", async () => (await client.getJob(long.id)).status === "running");
    // the owner of whichever provider took it wants the machine
    const homeId = (await client.getJob(long.id)).provider;
    const region = (await client.providers()).data.find((p) => p.id === homeId)?.region as string;
    const home = procs.get(region) as Proc;
    home.child.kill("SIGUSR2");
    const done = await client.waitForJob(long.id, { timeoutMs: 300_000 });
    expect(done.status).toBe("completed");
    expect(text((done.output as { data: string }).data)).toBe("664579");
    expect(done.provider).not.toBe(homeId);
    expect(done.trail?.[0]).toMatchObject({ providerId: homeId, outcome: "released", reason: "paused by its owner" });
    expect(done.trail?.at(-1)).toMatchObject({ outcome: "completed" });

    // work only the paused provider could run waits for it
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const waiting = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("paused") },
      constraints: { regions: [region] },
    });
    await sleep(1_500);
    expect((await client.getJob(waiting.id)).status).toBe("queued");
    expect((await client.providers()).data.find((p) => p.id === homeId)).toMatchObject({ online: true });

    home.child.kill("SIGUSR2");
    const resumed = await client.waitForJob(waiting.id, { timeoutMs: 60_000 });
    expect(resumed).toMatchObject({ status: "completed", provider: homeId });
    expect(text((resumed.output as { data: string }).data)).toBe("desuap");

    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(BigInt(done.cost!) + BigInt(resumed.cost!));
    expect(after.escrow).toBe("0");
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 400_000);
});
