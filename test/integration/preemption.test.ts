// Preemption with real processes: a provider with one slot runs a long batch-class job; an
// interactive chat completion that waits longer than --preempt-after-ms takes the slot. The batch
// job's lease is released (no attempt used, nothing billed), it resumes and completes, and the
// consumer pays each job once.
import { loadBuiltinModule } from "@tessera/runtimes";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("interactive work preempts batch work", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway(["--preempt-after-ms", "300"]);
    await net.startProvider({ region: "eu-west", concurrency: 1 });
    await net.waitForProviders(1);
  }, 120_000);
  afterAll(() => net.stop());

  it("releases the batch lease for a waiting chat completion, then finishes the batch job billed once", async () => {
    const { client, apiKey } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const before = await client.account();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    // seconds of work on this machine: long enough that the chat request arrives while it runs
    const batch = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: b64("10000000") },
      limits: { timeoutMs: 300_000, maxMemoryMb: 64 },
    });
    await until("batch job running", async () => (await client.getJob(batch.id)).status === "running");

    const model = (await openai.models.list()).data[0]?.id as string;
    const chat = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Say hello" }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(chat.choices[0]?.message.content).toEqual(expect.any(String));
    const chatJob = await client.getJob(chat.id.replace(/^chatcmpl-/, ""));
    expect(chatJob.status).toBe("completed");

    // the chat finished while the batch job was still unfinished: it had taken the batch job's slot
    const during = await client.getJob(batch.id);
    expect(during.status === "queued" || during.status === "running").toBe(true);

    const done = await client.waitForJob(batch.id, { timeoutMs: 300_000 });
    expect(done.status).toBe("completed");
    expect(Buffer.from((done.output as { data: string }).data, "base64").toString()).toBe("664579");
    const trail = done.trail ?? [];
    expect(trail[0]).toMatchObject({ outcome: "released" });
    expect(trail[0]?.reason).toMatch(/preempted/);
    expect(trail.at(-1)).toMatchObject({ outcome: "completed" });
    expect(trail.filter((a) => a.outcome === "completed")).toHaveLength(1);

    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(BigInt(done.cost!) + BigInt(chatJob.cost!));
    expect(BigInt(after.escrow)).toBe(0n);
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 400_000);
});
