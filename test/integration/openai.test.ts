// The official openai client, unchanged, against a real gateway and real provider processes.
import { loadBuiltinModule } from "@tessera/runtimes";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

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

  it("accepts what clients send as defaults, refuses what asks for more, and names each request", async () => {
    const base = { model, max_tokens: 4, temperature: 0 };
    const r = await openai.chat.completions.create({
      ...base,
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: null },
        { role: "user", content: "Again" },
      ],
      tools: [],
      tool_choice: "none",
      parallel_tool_calls: false,
      response_format: { type: "text" },
      logit_bias: {},
      store: false,
      service_tier: "auto",
      user: null as unknown as string,
      top_logprobs: 0,
    });
    expect(r.choices[0]?.message.role).toBe("assistant");
    expect(r._request_id).toMatch(/^req_[0-9a-f]{24}$/);
    const refused = async (extra: object, param: string) => {
      const e = await openai.chat.completions
        .create({ ...base, messages: [{ role: "user", content: "x" }], ...extra } as never)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
      expect((e as { requestID?: string }).requestID).toMatch(/^req_/);
    };
    await refused({ response_format: { type: "json_object" } }, "response_format.type");
    await refused({ tools: [{ type: "function", function: { name: "f" } }] }, "tools");
    await refused({ logit_bias: { "50256": -100 } }, "logit_bias");
    await refused({ stream_options: { include_usage: true } }, "stream_options");
    const nullUserContent = await fetch(`${net.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${openai.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ ...base, messages: [{ role: "user", content: null }] }),
    });
    expect(nullUserContent.status).toBe(400);
  });

  it("takes a one-element prompt list and caps legacy completions at 16 tokens by default, as OpenAI does", async () => {
    const r = await openai.completions.create({ model, prompt: ["Once upon a time"], temperature: 0 });
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
    expect(r.usage?.completion_tokens).toBeLessThanOrEqual(16);
    const same = await openai.completions.create({ model, prompt: "Once upon a time", temperature: 0 });
    expect(same.choices[0]?.text).toBe(r.choices[0]?.text);
    const many = await openai.completions.create({ model, prompt: ["a", "b"] }).catch((x: unknown) => x);
    expect(many).toBeInstanceOf(OpenAI.BadRequestError);
    expect((many as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("prompt");
  });

  it("gives every chunk a usage field with include_usage, null until the last", async () => {
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Count" }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const usages: (OpenAI.CompletionUsage | null | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usage);
    expect(usages.length).toBeGreaterThan(2);
    expect(usages.slice(0, -1).every((u) => u === null)).toBe(true);
    expect(usages.at(-1)?.completion_tokens).toBeGreaterThan(0);
  });

  it("answers a prompt the context cannot hold as context_length_exceeded, streamed or not, uncharged", async () => {
    const { apiKey, client } = await net.consumer();
    const oa = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    // ~1,700 prompt tokens: with the default output cap of 512, more than the 2,048-token context
    const req = { model, messages: [{ role: "user" as const, content: "a ".repeat(1700) }] };
    for (const stream of [false, true]) {
      const e = await oa.chat.completions.create({ ...req, stream }).catch((x: unknown) => x);
      expect(e, String(stream)).toBeInstanceOf(OpenAI.BadRequestError);
      const err = e as InstanceType<typeof OpenAI.BadRequestError>;
      expect(err.code).toBe("context_length_exceeded");
      expect(err.param).toBe("messages");
      expect(err.message).toMatch(/set max_tokens lower/);
    }
    // with room made for it, the same prompt runs
    const ok = await oa.chat.completions.create({ ...req, max_tokens: 8, temperature: 0 });
    expect(ok.usage?.prompt_tokens).toBeGreaterThan(1536);
    const account = await client.account();
    expect(account.escrow).toBe("0");
    expect(account.spent).toBe((ok as unknown as { tessera: { cost: string } }).tessera.cost);
  });

  it("cancels and refunds a request whose client goes away before any answer", async () => {
    const { apiKey, client } = await net.consumer();
    const oa = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    // every slot of both providers (2 × 2) busy with a long WASM job, so the chat request queues
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const blockers = await Promise.all(
      Array.from({ length: 4 }, () =>
        client.submitJob({
          runtime: "wasm",
          module: primes,
          input: { data: Buffer.from("50000000").toString("base64") },
          limits: { timeoutMs: 300_000, maxMemoryMb: 64 },
        }),
      ),
    );
    try {
      await until(
        "the blockers running",
        async () => (await client.listJobs({ status: "running" })).data.length === 4,
        60_000,
      );
      for (const stream of [false, true]) {
        const abort = new AbortController();
        const pending = oa.chat.completions
          .create(
            { model, messages: [{ role: "user", content: `gone ${stream}` }], max_tokens: 8, stream },
            { signal: abort.signal },
          )
          .catch((x: unknown) => x);
        const queued = await until(
          "the chat job queued",
          async () => (await client.listJobs({ status: "queued" })).data[0],
          30_000,
        );
        abort.abort();
        expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
        const job = await until(
          "the abandoned job cancelled",
          async () => {
            const j = await client.getJob(queued.id);
            return j.status === "cancelled" ? j : undefined;
          },
          30_000,
        );
        expect(job.cost ?? "0").toBe("0");
      }
    } finally {
      await Promise.all(blockers.map((b) => client.cancelJob(b.id)));
    }
    const account = await client.account();
    expect(account.escrow).toBe("0");
    expect(account.spent).toBe("0");
  });

  it("stops a stream whose client leaves mid-answer, billing the prompt and the tokens it was sent", async () => {
    const { apiKey, client } = await net.consumer();
    const oa = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    // the prompt's tokens, as a completed answer bills them (another consumer's)
    const messages = [{ role: "user" as const, content: "Tell me a long story" }];
    const whole = await openai.chat.completions.create({ model, messages, max_tokens: 1, temperature: 0 });
    const promptTokens = whole.usage!.prompt_tokens;
    expect(promptTokens).toBeGreaterThan(0);
    // a long sampled answer; should one finish before the client leaves, another seed is tried
    let stopped: Awaited<ReturnType<typeof client.getJob>> | undefined;
    for (let seed = 1; seed <= 5 && !stopped; seed++) {
      const stream = await oa.chat.completions.create({
        model,
        messages,
        max_tokens: 1000,
        temperature: 1,
        seed,
        stream: true,
      });
      let jobId = "";
      let received = "";
      for await (const c of stream) {
        jobId = c.id.replace(/^chatcmpl-/, "");
        received += c.choices[0]?.delta.content ?? "";
        if (received.length >= 20) break; // leaving the loop closes the connection
      }
      const job = await until(
        "the job to end",
        async () => {
          const j = await client.getJob(jobId);
          return j.status === "queued" || j.status === "running" ? undefined : j;
        },
        30_000,
      );
      if (job.status === "cancelled") stopped = job;
    }
    expect(stopped).toBeDefined();
    const job = stopped!;
    // billed for the prompt its node evaluated and what it was streamed (some tokens, fewer than
    // the cap), metered as a completed answer is: 2 × parameters × tokens, at the node's price
    expect(job.units?.inputTokens).toBe(promptTokens);
    expect(job.units?.outputTokens).toBeGreaterThan(0);
    expect(job.units?.outputTokens).toBeLessThan(1000);
    const tokens = promptTokens + job.units!.outputTokens;
    const parameters = (await openai.models.retrieve(model)) as unknown as { parameters: number };
    expect(job.units?.standardUnits).toBe(Math.ceil((2 * parameters.parameters * tokens) / 1e6));
    expect(BigInt(job.cost ?? "0")).toBe(BigInt(job.units!.standardUnits) * 50n);
    expect(job.trail?.at(-1)?.outcome).toBe("cancelled");
    const account = await client.account();
    expect(account.escrow).toBe("0");
    expect(account.spent).toBe(job.cost);
    expect((await net.admin.ledger()).ok).toBe(true);
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
