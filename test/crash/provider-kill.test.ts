// kill -9 of a provider in the middle of a job: the job finishes on another provider and the
// consumer pays exactly once.
import { loadBuiltinModule } from "@tessera/runtimes";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

describe("provider crash", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway(["--lease-ms", "3000", "--heartbeat-ms", "500"]);
    await net.startProvider({ region: "eu-west", concurrency: 1 });
    await net.startProvider({ region: "us-east", concurrency: 1 });
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(() => net.stop());

  it("finishes a job elsewhere after its provider is killed, charging once", async () => {
    const { client } = await net.consumer();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const before = await client.account();
    const job = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: Buffer.from("10000000").toString("base64") },
      limits: { timeoutMs: 120_000, maxMemoryMb: 64 },
    });
    const running = await until("job leased", async () => {
      const j = await client.getJob(job.id);
      return j.status === "running" ? j : undefined;
    });
    const providers = (await client.providers()).data;
    const victimIndex = providers.findIndex((p) => p.id === running.provider);
    const victim = net.processOf(running.provider!);
    expect(victimIndex).toBeGreaterThanOrEqual(0);
    expect(victim, "the leased provider's process").toBeDefined();
    await victim!.kill("SIGKILL");

    const done = await client.waitForJob(job.id, { timeoutMs: 180_000 });
    expect(done.status).toBe("completed");
    expect(done.provider).not.toBe(running.provider);
    expect(done.attempts).toBe(2);
    expect(done.trail?.map((t) => t.outcome)).toEqual(["expired", "completed"]);
    expect(done.trail?.[0]?.reason).toMatch(/disconnect|lease/);

    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(BigInt(done.cost!));
    expect(BigInt(after.spent) - BigInt(before.spent)).toBe(BigInt(done.cost!));
    expect(after.escrow).toBe("0");
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 240_000);

  it("answers 503 when no provider can serve a synchronous request", async () => {
    const { apiKey } = await net.consumer();
    await Promise.all(net.providers.map((p) => p.kill("SIGKILL")));
    await until("no providers online", async () => (await net.admin.health()).providers === 0);
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const err = await openai.chat.completions
      .create({ model: "tessera-tiny", messages: [{ role: "user", content: "anyone?" }], max_tokens: 4 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(503);
  });
});
