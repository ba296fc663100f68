// Prefetched batch leases with real processes: a provider with one slot and `--prefetch 1` holds
// a second batch lease while the first runs, so the slot starts the next job without waiting for
// the round trip to the gateway. An interactive chat completion is never leased into the
// prefetch slot; after --preempt-after-ms it takes back the prefetched lease and the running one,
// gets the slot, and both batch jobs still finish, each billed once.
import { loadBuiltinModule } from "@tessera/runtimes";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("a provider prefetching batch leases", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway(["--preempt-after-ms", "300"]);
    await net.startProvider({ region: "eu-west", concurrency: 1, extra: ["--prefetch", "1"] });
    await net.waitForProviders(1);
  }, 120_000);
  afterAll(() => net.stop());

  it("holds one batch lease beyond its slot, yields both to interactive work, and bills each job once", async () => {
    const { client, apiKey } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const before = await client.account();
    const provider = (await client.providers()).data[0];
    expect(provider).toMatchObject({ capacity: 1 });

    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const long = () =>
      client.submitJob({
        runtime: "wasm",
        module: primes,
        input: { data: b64("10000000") },
        limits: { timeoutMs: 300_000, maxMemoryMb: 64 },
      });
    const a = await long();
    const b = await long();
    // one slot, two leases: the second waits on the provider, not in the gateway's queue
    await until(
      "both batch jobs leased",
      async () => (await client.getJob(a.id)).status === "running" && (await client.getJob(b.id)).status === "running",
    );

    const model = (await openai.models.list()).data[0]?.id as string;
    const chat = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Say hello" }],
      max_tokens: 8,
      temperature: 0,
    });
    const chatJob = await client.getJob(chat.id.replace(/^chatcmpl-/, ""));
    expect(chatJob.status).toBe("completed");
    // it had to take the slot back: its only attempt is the one that completed
    expect(chatJob.trail, JSON.stringify(chatJob.trail)).toHaveLength(1);

    for (const j of [a, b]) {
      const done = await client.waitForJob(j.id, { timeoutMs: 300_000 });
      expect(done.status).toBe("completed");
      expect(Buffer.from((done.output as { data: string }).data, "base64").toString()).toBe("664579");
      const trail = done.trail ?? [];
      expect(trail[0]).toMatchObject({ outcome: "released" });
      expect(trail[0]?.reason).toMatch(/preempted/);
      expect(trail.filter((x) => x.outcome === "completed")).toHaveLength(1);
    }

    const after = await client.account();
    const costs = await Promise.all(
      [a.id, b.id, chatJob.id].map(async (id) => BigInt((await client.getJob(id)).cost!)),
    );
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(costs.reduce((x, y) => x + y, 0n));
    expect(after.escrow).toBe("0");
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 400_000);
});
