// What the official openai client and browser chat UIs do that a plain request does not: push the
// answer back as history, verify a key by listing models, preflight from a page, send hint fields;
// and what an answer tells a client beyond its body: the model retrieved by id, the job behind it.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

describe("OpenAI client compatibility", () => {
  const net = new TestNetwork();
  let openai: OpenAI;
  let apiKey: string;
  const model = "tessera-tiny";

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider();
    await net.waitForProviders(1);
    apiKey = (await net.consumer()).apiKey;
    openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
  }, 120_000);
  afterAll(() => net.stop());

  it("takes its own answer back as history, streamed (the stream helper's final message) and not", async () => {
    const base = { model, max_tokens: 4, temperature: 0 };
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Say hi" }];
    const first = await openai.chat.completions.create({ ...base, messages });
    expect(first.choices[0]!.message).toHaveProperty("refusal", null);
    messages.push(first.choices[0]!.message, { role: "user", content: "Again" });
    const streamed = await openai.chat.completions.stream({ ...base, messages }).finalChatCompletion();
    expect(streamed.choices[0]!.message).toHaveProperty("parsed", null);
    messages.push(streamed.choices[0]!.message, { role: "user", content: "Once more" });
    const third = await openai.chat.completions.create({ ...base, messages });
    expect(third.choices[0]!.message.role).toBe("assistant");
    // the other "nothing" values an echoed message may carry
    const echoed = { role: "assistant" as const, content: "hi", tool_calls: [], function_call: null, audio: null };
    const r = await openai.chat.completions.create({
      ...base,
      messages: [{ role: "user", content: "Hi" }, echoed as never, { role: "user", content: "Again" }],
    });
    expect(r.choices[0]!.finish_reason).toBeTruthy();
    // a refusal is the assistant's text: it reaches the model as that turn's content
    const refusal = await openai.chat.completions.create({
      ...base,
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: null, refusal: "I cannot help with that." },
        { role: "user", content: "Why?" },
      ],
    });
    const job = await fetch(
      `${net.url}/v1/jobs/${(refusal as unknown as { tessera: { job_id: string } }).tessera.job_id}`,
      {
        headers: { authorization: `Bearer ${apiKey}` },
      },
    ).then((x) => x.json() as Promise<{ spec: { input: { messages: { content: string }[] } } }>);
    expect(job.spec.input.messages[1]!.content).toBe("I cannot help with that.");
  });

  it("refuses an echoed tool call, naming the field", async () => {
    const call = { id: "call_1", type: "function", function: { name: "f", arguments: "{}" } };
    for (const [extra, param] of [
      [{ tool_calls: [call] }, "messages.1.tool_calls"],
      [{ function_call: { name: "f", arguments: "{}" } }, "messages.1.function_call"],
    ] as const) {
      const e = await openai.chat.completions
        .create({
          model,
          max_tokens: 4,
          messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: null, ...extra } as never],
        })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
    }
  });
  it("gives a bad key and an unknown model OpenAI's error type and code", async () => {
    const bad = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    const e401 = await bad.chat.completions
      .create({ model, messages: [{ role: "user", content: "x" }] })
      .catch((x: unknown) => x);
    expect(e401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e401).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    const e404 = await openai.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] })
      .catch((x: unknown) => x);
    expect(e404).toBeInstanceOf(OpenAI.NotFoundError);
    expect(e404).toMatchObject({ type: "invalid_request_error", code: "model_not_found", param: "model" });
  });
  it("lists models only for a valid key, as OpenAI does (clients verify a key that way)", async () => {
    expect((await openai.models.list()).data.map((m) => m.id)).toContain(model);
    expect((await openai.models.retrieve(model)).id).toBe(model);
    const bad = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(bad.models.retrieve(model)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    for (const path of ["/v1/models", `/v1/models/${model}`])
      expect((await fetch(`${net.url}${path}`)).status, path).toBe(401);
  });
  it("lets a browser page call the consumer API across origins, and only that", async () => {
    const origin = "http://localhost:3000";
    const preflight = (path: string) =>
      fetch(`${net.url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type,x-stainless-os,openai-organization,x-other",
        },
      });
    const ok = await preflight("/v1/chat/completions");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    expect(ok.headers.get("access-control-allow-headers")?.split(", ")).toEqual([
      "authorization",
      "content-type",
      "x-stainless-os",
      "openai-organization",
    ]);
    for (const path of ["/v1/admin/consumers", "/v1/provider/shares/claim"]) {
      const closed = await preflight(path);
      expect(closed.status, path).toBe(404);
      expect(closed.headers.get("access-control-allow-origin"), path).toBeNull();
    }
    // the real requests, as the openai client sends them from a page: answers, streams and errors
    const page = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: { origin } });
    const req = { model, messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 2, temperature: 0 };
    const { response } = await page.chat.completions.create(req).withResponse();
    const { response: streamed } = await page.chat.completions.create({ ...req, stream: true }).withResponse();
    const { response: listed } = await page.models.list().withResponse();
    for (const r of [response, streamed, listed]) {
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      expect(r.headers.get("access-control-expose-headers")).toContain("x-request-id");
    }
    await streamed.text();
    const denied = await fetch(`${net.url}/v1/models`, { headers: { origin } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe("*");
  });
  it("accepts hint fields that cannot change the answer, and any integer seed", async () => {
    const base = { model, messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 4, temperature: 0 };
    const greedy = (await openai.chat.completions.create(base)).choices[0]!.message.content;
    const hints = {
      safety_identifier: "user-123",
      prompt_cache_key: "conversation-1",
      metadata: null,
      prediction: null,
      audio: null,
      modalities: ["text" as const],
    };
    expect((await openai.chat.completions.create({ ...base, ...hints })).choices[0]!.message.content).toBe(greedy);
    let streamed = "";
    for await (const c of await openai.chat.completions.create({
      ...base,
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
    }))
      streamed += c.choices[0]?.delta.content ?? "";
    expect(streamed).toBe(greedy);
    // top_p 0 keeps only the likeliest token: greedy, whatever the temperature
    const topP0 = await openai.chat.completions.create({ ...base, temperature: 1, top_p: 0 });
    expect(topP0.choices[0]!.message.content).toBe(greedy);
    // a seed is reduced modulo 2^32: 2^32 + 5 samples as 5 does, -1 as 2^32 - 1
    const sampled = async (seed: number) => {
      const r = await openai.chat.completions.create({ ...base, max_tokens: 8, temperature: 1, seed });
      const id = (r as unknown as { tessera: { job_id: string } }).tessera.job_id;
      const job = (await fetch(`${net.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${apiKey}` } }).then(
        (x) => x.json(),
      )) as { spec: { params: { seed: number } } };
      return { text: r.choices[0]!.message.content, seed: job.spec.params.seed };
    };
    const five = await sampled(5);
    expect(await sampled(2 ** 32 + 5)).toEqual(five);
    expect((await sampled(-1)).seed).toBe(2 ** 32 - 1);
    expect((await sampled(2 ** 40)).seed).toBe(0);
    // what would change the answer is still refused, naming the field
    const refused = await openai.chat.completions
      .create({ ...base, prediction: { type: "content", content: "Hello" } })
      .catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("prediction");
  });
  it("answers in OpenAI's full shape: fingerprint on every answer and chunk, usage details, processing time", async () => {
    const chat = { model, messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 4, temperature: 0 };
    const text = { model, prompt: "Once upon a time", max_tokens: 4, temperature: 0 };
    const { data: c, response } = await openai.chat.completions.create(chat).withResponse();
    const fp = c.system_fingerprint;
    expect(fp).toMatch(/^fp_[0-9a-f]{12}$/);
    expect(response.headers.get("openai-processing-ms")).toMatch(/^\d+$/);
    expect(c.usage?.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    expect(c.usage?.completion_tokens_details).toMatchObject({ reasoning_tokens: 0, audio_tokens: 0 });
    const { data: t, response: tr } = await openai.completions.create(text).withResponse();
    expect(t.system_fingerprint).toBe(fp); // one provider in this network
    expect(tr.headers.get("openai-processing-ms")).toMatch(/^\d+$/);
    expect(t.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const opts = { stream: true as const, stream_options: { include_usage: true } };
    const fingerprints: (string | null | undefined)[] = [];
    for await (const k of await openai.chat.completions.create({ ...chat, ...opts }))
      fingerprints.push(k.system_fingerprint);
    for await (const k of await openai.completions.create({ ...text, ...opts }))
      fingerprints.push((k as { system_fingerprint?: string | null }).system_fingerprint);
    expect(fingerprints.length).toBeGreaterThan(4);
    expect(new Set(fingerprints)).toEqual(new Set([fp]));
  });
  it("refuses a participant name it could not pass to the model, rather than dropping it", async () => {
    const e = await openai.chat.completions
      .create({ model, max_tokens: 4, messages: [{ role: "user", content: "Hi", name: "Alice" }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages.0.name");
    // an empty name names no one
    const ok = await openai.chat.completions.create({
      model,
      max_tokens: 4,
      messages: [{ role: "user", content: "Hi", name: "" }],
    });
    expect(ok.choices[0]!.message.role).toBe("assistant");
  });

  it("retrieves a model as the list shows it, context length included", async () => {
    const listed = (await openai.models.list()).data.find((m) => m.id === model);
    const retrieved = await openai.models.retrieve(model);
    expect(retrieved).toEqual(listed);
    expect(retrieved).toHaveProperty("context_length", 2048);
    // by content id too: the public name, the same object
    const byId = await openai.models.retrieve((listed as unknown as { content_id: string }).content_id);
    expect(byId).toEqual(listed);
  });

  it("names the job in x-tessera-job-id on a non-streamed answer, and on one that failed after submit", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model, max_tokens: 2, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    const id = (data as unknown as { tessera: { job_id: string } }).tessera.job_id;
    expect(response.headers.get("x-tessera-job-id")).toBe(id);
    // a prompt only the node can tell is too long: the job exists and failed, and the 400 names it
    for (const stream of [false, true]) {
      const res = await fetch(`${net.url}/v1/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model, prompt: "hello world ".repeat(1500), max_tokens: 5, stream }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("context_length_exceeded");
      const jobId = res.headers.get("x-tessera-job-id");
      expect(jobId).toMatch(/^job_/);
      const job = (await (
        await fetch(`${net.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${apiKey}` } })
      ).json()) as { status: string; cost: string | null };
      expect(job.status).toBe("failed");
    }
  });

  it("stops at a stop sequence as OpenAI does: left out of the text, finish_reason stop, billed for what it returned", async () => {
    const base = { model, messages: [{ role: "user" as const, content: "Tell me a story" }], max_tokens: 24 };
    const full = await openai.chat.completions.create({ ...base, temperature: 0 });
    const text = full.choices[0]!.message.content!;
    const cost = (r: object) => BigInt((r as { tessera: { cost: string } }).tessera.cost);
    const stop = text.slice(6, 10);
    const before = text.slice(0, text.indexOf(stop));
    for (const s of [stop, ["never in this text", stop]]) {
      const cut = await openai.chat.completions.create({ ...base, temperature: 0, stop: s });
      expect(cut.choices[0]!.message.content).toBe(before);
      expect(cut.choices[0]!.finish_reason).toBe("stop");
      expect(cut.usage!.completion_tokens).toBeLessThan(full.usage!.completion_tokens);
      expect(cost(cut)).toBeLessThan(cost(full));
    }
    let streamed = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of await openai.chat.completions.create({
      ...base,
      temperature: 0,
      stop,
      stream: true,
      stream_options: { include_usage: true },
    })) {
      streamed += c.choices[0]?.delta.content ?? "";
      finish = c.choices[0]?.finish_reason ?? finish;
      usage = c.usage ?? usage;
    }
    expect({ streamed, finish }).toEqual({ streamed: before, finish: "stop" });
    expect(usage!.completion_tokens).toBeLessThan(full.usage!.completion_tokens);
    // temperature 2 (OpenAI's highest) samples, seeded
    const hot = await openai.chat.completions.create({ ...base, temperature: 2, top_p: 0.9, seed: 1 });
    expect(hot.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("refuses max_tokens beside a different max_completion_tokens, as OpenAI does, rather than choose one", async () => {
    const base = { model, messages: [{ role: "user" as const, content: "Tell me a story" }], temperature: 0 };
    const both = await openai.chat.completions
      .create({ ...base, max_tokens: 10, max_completion_tokens: 3 })
      .catch((x: unknown) => x);
    expect(both).toBeInstanceOf(OpenAI.BadRequestError);
    expect(both).toMatchObject({ param: "max_tokens", code: "invalid_parameter_combination" });
    // either alone caps the answer, and the same cap under both names says one thing
    for (const caps of [{ max_completion_tokens: 3 }, { max_tokens: 3, max_completion_tokens: 3 }]) {
      const r = await openai.chat.completions.create({ ...base, ...caps });
      expect(r.usage!.completion_tokens).toBeLessThanOrEqual(3);
    }
  });

  it("refuses each parameter it cannot honour with a 400 that names it and says it is not supported", async () => {
    const chat = { model, messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 2 };
    const cases: [object, string][] = [
      [{ n: 2 }, "n"],
      [{ presence_penalty: 0.5 }, "presence_penalty"],
      [{ frequency_penalty: -1 }, "frequency_penalty"],
      [{ logit_bias: { "50": 5 } }, "logit_bias"],
      [{ response_format: { type: "json_object" } }, "response_format.type"],
      [{ response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } } }, "response_format.type"],
      [{ tools: [{ type: "function", function: { name: "f" } }] }, "tools"],
      [{ tool_choice: "required" }, "tool_choice"],
      [{ top_logprobs: 2 }, "top_logprobs"],
    ];
    for (const [extra, param] of cases) {
      const e = await openai.chat.completions.create({ ...chat, ...extra } as never).catch((x: unknown) => x);
      expect(e, param).toBeInstanceOf(OpenAI.BadRequestError);
      const err = e as InstanceType<typeof OpenAI.BadRequestError>;
      expect(err.param).toBe(param);
      expect(err.type).toBe("invalid_request_error");
      expect(err.message, param).toMatch(/not supported|not returned/);
    }
    for (const [extra, param] of [
      [{ best_of: 2 }, "best_of"],
      [{ echo: true }, "echo"],
    ] as const) {
      const e = await openai.completions
        .create({ model, prompt: "Hi", max_tokens: 2, ...extra })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
      expect((e as Error).message, param).toMatch(/not supported/);
    }
  });

  // last: it stops the network's only provider
  it("a model no node online serves is a 503 an OpenAI client can act on, naming the model as it asked", async () => {
    await net.providers[0]!.stop();
    await net.waitForProviders(0);
    await until("the gateway to see the provider gone", async () => (await net.admin.health()).providers === 0);
    const e = await openai.chat.completions
      .create({ model, max_tokens: 2, messages: [{ role: "user", content: "Hi" }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    const err = e as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(503);
    expect(err.code).toBe("no_capacity");
    expect(err.message).toContain(`'${model}'`);
    // maxPricePerUnit is the native API's: an OpenAI request has no field to set it in
    expect(err.message).not.toMatch(/constraints|maxPricePerUnit/);
  });
});

describe("OpenAI client compatibility: rate limit", () => {
  const net = new TestNetwork();
  afterAll(() => net.stop());

  it("answers too many requests as OpenAI's rate_limit_exceeded", async () => {
    await net.startGateway(["--rate-limit", "2"]);
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: (await net.consumer()).apiKey, maxRetries: 0 });
    const results = await Promise.all(Array.from({ length: 6 }, () => openai.models.list().catch((x: unknown) => x)));
    const limited = results.find((r) => r instanceof OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, type: "requests", code: "rate_limit_exceeded" });
  }, 60_000);
});
