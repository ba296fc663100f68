// Bad input, generated: fast-check derives thousands of requests from valid ones (a field set to
// any JSON value, deleted, or a stranger added; whole bodies of random JSON or not JSON at all;
// odd content types, keys and idempotency keys) and sends them to a real gateway with a real
// provider. Every answer must be a success or a 4xx in OpenAI's error shape (a 503/504 only with
// its documented code), the gateway must stay up, and nothing may be lost: every job the
// consumer has is one an answer named, none is left holding escrow, and the consumer's deposit
// is its balance plus the costs of its jobs. errors.test.ts holds the hand-picked cases.
import { loadBuiltinModule } from "@tessera/runtimes";
import type { TesseraClient } from "@tessera/sdk";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { bodyFrom, cancelUnfinished, fuzzRuns, type Json, settledJobs } from "../helpers/fuzz.js";
import { TestNetwork } from "../helpers/network.js";

const ErrorBody = z.object({
  error: z.object({
    message: z.string().min(1),
    type: z.string().min(1),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

/** 5xx answers a client is told to expect, by status: their error code */
const DOCUMENTED_5XX: Record<number, string[]> = { 503: ["no_capacity"], 504: ["timeout"] };

interface Answer {
  method: string;
  path: string;
  body: string | undefined;
  status: number;
  text: string;
  jobId: string | null;
}

/** What was wrong with an answer, or undefined when it is one the API may give. */
function problemWith(a: Answer): string | undefined {
  if (a.status < 400) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(a.text);
  } catch {
    return "an error whose body is not JSON";
  }
  const shape = ErrorBody.safeParse(parsed);
  if (!shape.success) return `an error not in OpenAI's shape: ${shape.error.issues[0]?.message}`;
  if (a.status >= 500 && !DOCUMENTED_5XX[a.status]?.includes(shape.data.error.code ?? "")) return "a server error";
  return undefined;
}

/** Query parameters the read routes take, and strangers; values of every kind as text. */
const query: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom("limit", "cursor", "before", "after", "status", "wait", "runtime", "provider", "consumer"),
        fc.constantFrom("q", "account", "job", "window", "sort", "order", "region", "purpose", "offset"),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(
        fc.constantFrom("", "0", "1", "-1", "500", "501", "1e3", "0x10", "NaN", "9007199254740993", "completed", "llm"),
        fc.integer().map(String),
        fc.string({ maxLength: 30 }),
        fc.constant("f".repeat(64)),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => {
    const q = new URLSearchParams(pairs).toString();
    return q ? `?${q}` : "";
  });

/** Read (and cancel) routes; `{job}` becomes one of the consumer's jobs or a made-up id. */
const READS = [
  "/v1/jobs",
  "/v1/jobs/{job}",
  "/v1/account",
  "/v1/models",
  "/v1/models/{job}",
  "/v1/providers",
  "/v1/blobs/{job}",
  "/v1/files",
  "/v1/files/{job}/content",
  "/v1/batches",
  "/v1/batches/{job}",
  "/v1/audits",
  "/v1/explorer/jobs",
  "/v1/explorer/providers",
  "/v1/explorer/overview",
  "/v1/explorer/leaderboard",
  "/v1/explorer/ledger/postings",
  "/v1/explorer/ledger/accounts",
  "/v1/verification/nodes",
  "/v1/jobs/{job}/audits",
  "/v1/settlement",
  "/v1/settlement/account",
  "/v1/settlement/withdrawals",
  "/v1/shares/{job}",
  "/metrics",
];

describe("the HTTP API under generated bad input", () => {
  const net = new TestNetwork();
  const DEPOSIT = 1_000n * 1_000_000_000n;
  let apiKey: string;
  let client: TesseraClient;
  const answers: Answer[] = [];

  const send = async (method: string, path: string, body: string | undefined, headers: Record<string, string>) => {
    const res = await fetch(`${net.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const submitted = method === "POST" && path === "/v1/jobs" && res.ok;
    const answer: Answer = {
      method,
      path,
      body: body && body.length > 300 ? `${body.slice(0, 300)}…` : body,
      status: res.status,
      text,
      // the OpenAI routes name their job in a header, errors after submit included; POST /v1/jobs in its body
      jobId: res.headers.get("x-tessera-job-id") ?? (submitted ? (JSON.parse(text) as { id: string }).id : null),
    };
    answers.push(answer);
    return answer;
  };

  const headersArb = (key: () => string): fc.Arbitrary<Record<string, string>> =>
    fc
      .record({
        contentType: fc.constantFrom(
          "application/json",
          "application/json",
          "application/json",
          "application/json; charset=utf-8",
          "text/plain",
          "application/x-www-form-urlencoded",
          undefined,
        ),
        auth: fc.constantFrom("good", "good", "good", "good", "good", "good", "good", "wrong", "none", "basic"),
        idempotencyKey: fc.oneof(
          { weight: 8, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
          { weight: 1, arbitrary: fc.constant("x".repeat(300)) },
        ),
      })
      .map(({ contentType, auth, idempotencyKey }) => {
        const h: Record<string, string> = {};
        if (contentType) h["content-type"] = contentType;
        if (auth === "good") h.authorization = `Bearer ${key()}`;
        if (auth === "wrong") h.authorization = "Bearer tsk_not_a_key";
        if (auth === "basic") h.authorization = "Basic dXNlcjpwYXNz";
        // a header value fetch cannot send (control characters, non-Latin-1) is not a request at all
        if (idempotencyKey !== null && /^[\x20-\x7e]*$/.test(idempotencyKey)) h["idempotency-key"] = idempotencyKey;
        return h;
      });

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0", "--answer-wait-ms", "60000"]);
    await net.startProvider({ runtimes: ["llm", "wasm"], concurrency: 4 });
    await net.waitForProviders(1);
    ({ apiKey, client } = await net.consumer(DEPOSIT));
  }, 120_000);
  afterAll(() => net.stop());

  it("answers every generated request with a success or an error in OpenAI's shape, and loses no job or credit", async () => {
    const model = (await client.models()).data[0] as { id: string; content_id: string };
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;

    const writes: { path: string; valid: Json }[] = [
      {
        path: "/v1/chat/completions",
        valid: { model: model.id, messages: [{ role: "user", content: "hello" }], max_tokens: 4, temperature: 0 },
      },
      {
        path: "/v1/chat/completions",
        valid: {
          model: model.id,
          messages: [
            { role: "system", content: "be brief" },
            { role: "user", content: [{ type: "text", text: "hello" }] },
          ],
          max_completion_tokens: 3,
          stream: true,
          stream_options: { include_usage: true },
          stop: ["\n"],
          seed: 7,
        },
      },
      { path: "/v1/completions", valid: { model: model.content_id, prompt: "hello", max_tokens: 3, top_p: 0 } },
      {
        path: "/v1/jobs",
        valid: {
          runtime: "wasm",
          module: reverse,
          input: { data: Buffer.from("fuzz").toString("base64") },
          limits: { timeoutMs: 2_000, maxMemoryMb: 16, maxFuel: 1_000_000 },
        },
      },
      {
        path: "/v1/jobs",
        valid: {
          runtime: "llm",
          model: model.content_id,
          input: { prompt: "hi" },
          params: { temperature: 0.7, seed: 3, topK: 20, topP: 0.9, stop: ["."] },
          limits: { maxOutputTokens: 4 },
          constraints: {
            regions: ["region-1", "us-east"],
            maxPricePerUnit: 1_000,
            minReputation: 0,
            deadlineMs: 60_000,
          },
        },
      },
    ];
    // operator writes, for another consumer and the provider, so the fuzzed consumer's money is its jobs' alone
    const other = await net.consumer(1n);
    const providerId = ((await net.admin.providers()).data[0] as { id: string }).id;
    const adminWrites: { path: string; valid: Json }[] = [
      { path: "/v1/admin/deposits", valid: { consumerId: other.id, amount: "1000", id: "dep-1" } },
      { path: "/v1/admin/consumers", valid: { name: "fuzzed", deposit: "5" } },
      { path: "/v1/admin/stake", valid: { providerId, amount: "1000", id: "stake-1" } },
      { path: "/v1/admin/unbond", valid: { providerId, amount: "1" } },
    ];
    const post = (w: { path: string; valid: Json }, key: () => string) =>
      fc.record({
        method: fc.constant("POST"),
        path: fc.constant(w.path),
        body: bodyFrom(w.valid) as fc.Arbitrary<string | undefined>,
        headers: headersArb(key),
        pick: fc.nat(),
      });
    const request = fc.oneof(
      { weight: 10, arbitrary: fc.oneof(...writes.map((w) => post(w, () => apiKey))) },
      { weight: 2, arbitrary: fc.oneof(...adminWrites.map((w) => post(w, () => net.adminKey))) },
      {
        weight: 3,
        arbitrary: fc.record({
          method: fc.constant("GET"),
          path: fc.tuple(fc.constantFrom(...READS), query).map(([route, q]) => route + q),
          body: fc.constant(undefined),
          headers: headersArb(() => apiKey),
          pick: fc.nat(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          method: fc.constant("DELETE"),
          path: fc.constant("/v1/jobs/{job}"),
          body: fc.constant(undefined),
          headers: headersArb(() => apiKey),
          pick: fc.nat(),
        }),
      },
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const ids = answers.flatMap((a) => (a.jobId ? [a.jobId] : []));
        const job = r.pick % 2 === 0 && ids.length > 0 ? (ids[r.pick % ids.length] as string) : `job_${r.pick}`;
        const a = await send(r.method, r.path.replace("{job}", job), r.body, r.headers);
        const problem = problemWith(a);
        if (problem)
          throw new Error(`${a.method} ${a.path} ${a.body ?? ""} → ${a.status} ${a.text.slice(0, 300)}: ${problem}`);
      }),
      fuzzRuns(2000),
    );

    // nothing lost: once what has not ended is cancelled, the jobs are exactly those the answers named
    await cancelUnfinished(net, apiKey);
    const jobs = await settledJobs(net, apiKey, DEPOSIT);
    expect(jobs.length).toBeGreaterThan(0);
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(answers.flatMap((a) => (a.jobId ? [a.jobId] : []))));
  }, 900_000);
});
