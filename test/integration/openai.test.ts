// The official openai client, unchanged, against a real gateway and real provider processes.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork } from "../helpers/network.js";

describe("OpenAI API", () => {
  const net = new TestNetwork();
  let openai: OpenAI;
  let model: string;

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ region: "eu-west" });
    await net.startProvider({ region: "us-east" });
    await net.waitForProviders(2);
    const c = await net.consumer();
    openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: c.apiKey, maxRetries: 0 });
    model = (await openai.models.list()).data[0]!.id;
  }, 120_000);
  afterAll(() => net.stop());

  it("lists the providers' model by name with its content id", async () => {
    const models = await openai.models.list();
    expect(models.data.length).toBe(1);
    expect(model).toBe("tessera-tiny");
    expect((models.data[0] as unknown as { content_id: string }).content_id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("answers a chat completion with usage filled from metering", async () => {
    const r = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Hello there" }],
      max_tokens: 16,
      temperature: 0,
    });
    expect(r.object).toBe("chat.completion");
    expect(r.choices[0]!.message.role).toBe("assistant");
    expect(typeof r.choices[0]!.message.content).toBe("string");
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(16);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it("streams the same greedy answer it gives unstreamed", async () => {
    const req = {
      model,
      messages: [{ role: "user" as const, content: "Count to five" }],
      max_tokens: 24,
      temperature: 0,
    };
    const whole = await openai.chat.completions.create(req);
    const stream = await openai.chat.completions.create({
      ...req,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice?.delta?.content) {
        text += choice.delta.content;
        chunks++;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks).toBeGreaterThan(1);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it("gives identical greedy answers whichever provider runs them", async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        openai.chat.completions.create({
          model,
          messages: [{ role: "user", content: "Same question" }],
          max_tokens: 12,
          temperature: 0,
        }),
      ),
    );
    const providers = new Set(answers.map((a) => (a as unknown as { tessera: { provider: string } }).tessera.provider));
    const texts = new Set(answers.map((a) => a.choices[0]!.message.content));
    expect(texts.size).toBe(1);
    expect(providers.size).toBeGreaterThanOrEqual(1);
  });

  it("serves text completions, streamed and not", async () => {
    const r = await openai.completions.create({ model, prompt: "Once upon a time", max_tokens: 10, temperature: 0 });
    expect(r.object).toBe("text_completion");
    const stream = await openai.completions.create({
      model,
      prompt: "Once upon a time",
      max_tokens: 10,
      temperature: 0,
      stream: true,
    });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.text ?? "";
    expect(text).toBe(r.choices[0]!.text);
  });

  it("replays a finished streamed request with the same Idempotency-Key as the whole answer", async () => {
    const req = {
      model,
      messages: [{ role: "user" as const, content: "Stream me once" }],
      max_tokens: 12,
      temperature: 0,
      stream: true as const,
    };
    const headers = { "Idempotency-Key": `replay-${Date.now()}` };
    const read = async () => {
      let text = "";
      let id = "";
      let finish: string | null = null;
      for await (const chunk of await openai.chat.completions.create(req, { headers })) {
        id = chunk.id;
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      return { id, text, finish };
    };
    const first = await read();
    expect(first.text.length).toBeGreaterThan(0);
    // the job is finished now: the replay is answered from the store, not from live chunks
    expect(await read()).toEqual(first);
  });

  it("reproduces a seeded sampled answer", async () => {
    const req = {
      model,
      messages: [{ role: "user" as const, content: "Tell me something" }],
      max_tokens: 12,
      temperature: 0.8,
      seed: 42,
    };
    const a = await openai.chat.completions.create(req);
    const b = await openai.chat.completions.create(req);
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
  });

  it("raises the SDK's typed errors for a bad key and an unknown model", async () => {
    const bad = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: "tsk_nope", maxRetries: 0 });
    await expect(
      bad.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      openai.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      openai.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], n: 3 } as never),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
