// Bad input at the boundary: each gets the right 4xx in OpenAI's error shape and changes nothing.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork } from "../helpers/network.js";

type Ledger = { ok: boolean; accounts: Record<string, string> };

describe("request validation", () => {
  const net = new TestNetwork();
  let apiKey: string;
  let modelId: string;
  let poor: string;

  const call = async (path: string, init: RequestInit & { key?: string | null } = {}) => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      ...(init.headers as Record<string, string>),
    };
    const key = init.key === undefined ? apiKey : init.key;
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${net.url}${path}`, { ...init, headers });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { message: string; type: string; code: string; param: string | null } },
    };
  };
  // Operator calls share the key's limit of 20 a second with the rest of a test: one refused with
  // 429 is sent again after the window the gateway names, so it is answered on its merits.
  const admin = async (path: string, body?: unknown) => {
    for (;;) {
      const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body) };
      const r = await call(path, { ...init, key: net.adminKey });
      if (r.status !== 429) return r as typeof r & { body: Record<string, unknown> };
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  // The gateway refuses an oversized body from its Content-Length alone, before reading it;
  // the test announces 9 MiB, sends only the headers and reads the answer.
  const postLarge = (path: string, bytes: number) =>
    new Promise<{ status: number; body: { error?: { code: string; type: string } } }>((resolve, reject) => {
      const req = request(`${net.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}`, "content-length": bytes },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        });
      });
      req.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" ? undefined : reject(e)));
      req.flushHeaders();
    });
  const snapshot = async () => ({ ledger: await net.admin.ledger(), jobs: (await call("/v1/jobs?limit=500")).body });

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "20"]);
    await net.startProvider();
    await net.waitForProviders(1);
    apiKey = (await net.consumer()).apiKey;
    poor = (await net.consumer(1n)).apiKey;
    const models = await fetch(`${net.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    modelId = ((await models.json()) as { data: { content_id: string }[] }).data[0]!.content_id;
  }, 120_000);
  afterAll(() => net.stop());

  it("answers malformed, unauthenticated, unknown, oversized and unaffordable requests with 4xx and no state change", async () => {
    const before = await snapshot();
    const cases: [string, Promise<{ status: number; body: { error?: { code: string; type: string } } }>, number][] = [
      ["not JSON", call("/v1/jobs", { method: "POST", body: "{nope" }), 400],
      [
        "wrong type",
        call("/v1/jobs", {
          method: "POST",
          body: JSON.stringify({ runtime: "llm", model: modelId, input: { prompt: 5 } }),
        }),
        400,
      ],
      [
        "unknown field",
        call("/v1/jobs", {
          method: "POST",
          body: JSON.stringify({ runtime: "llm", model: modelId, input: { prompt: "x" }, evil: true }),
        }),
        400,
      ],
      [
        "unknown runtime",
        call("/v1/jobs", { method: "POST", body: JSON.stringify({ runtime: "cuda", input: {} }) }),
        400,
      ],
      ["no key", call("/v1/jobs", { method: "POST", key: null, body: "{}" }), 401],
      ["bad key", call("/v1/account", { key: "tsk_wrong" }), 401],
      ["bad admin key", call("/v1/admin/ledger", { key: "not-the-admin-key" }), 401],
      ["consumer's key on admin routes", call("/v1/admin/ledger"), 401],
      ["someone else's consumer in the explorer", call("/v1/explorer/jobs?consumer=c_someone", { key: null }), 403],
      [
        "unknown model",
        call("/v1/jobs", {
          method: "POST",
          body: JSON.stringify({ runtime: "llm", model: "f".repeat(64), input: { prompt: "x" } }),
        }),
        404,
      ],
      ["unknown job", call("/v1/jobs/job_missing"), 404],
      ["unknown route", call("/v1/nothing-here"), 404],
      ["too large", postLarge("/v1/jobs", 9 * 1024 * 1024), 413],
      [
        "unaffordable",
        call("/v1/jobs", {
          method: "POST",
          key: poor,
          body: JSON.stringify({ runtime: "llm", model: modelId, input: { prompt: "hi" } }),
        }),
        402,
      ],
    ];
    for (const [name, pending, status] of cases) {
      const r = await pending;
      expect({ name, status: r.status }).toEqual({ name, status });
      expect(r.body.error, name).toMatchObject({
        message: expect.any(String),
        type: expect.any(String),
        code: expect.any(String),
      });
    }
    const after = await snapshot();
    expect(after.ledger.accounts).toEqual(before.ledger.accounts);
    expect(after.jobs).toEqual(before.jobs);
    expect(after.ledger.ok).toBe(true);
  });

  it("refuses at submit, before any escrow, what no provider could run or what names nothing", async () => {
    // a key of its own: the cases run one after another, within the 20 requests a second allowed
    const { apiKey: key } = await net.consumer();
    const as = (path: string, init: RequestInit = {}) => call(path, { ...init, key });
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      as(path, { method: "POST", body: JSON.stringify(body), headers });
    const module = await as("/v1/blobs", {
      method: "POST",
      body: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]),
      headers: { "content-type": "application/octet-stream" },
    });
    const moduleId = (module.body as unknown as { id: string }).id;
    const account = async () => (await as("/v1/account")).body;
    const before = { account: await account(), jobs: (await as("/v1/jobs")).body };
    const chat = { model: "tessera-tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 2 };
    const cases: [string, () => ReturnType<typeof call>, number, string | null][] = [
      // providers refuse a lease whose stop string is over 256 characters: this once cost 3 leases
      ["stop string too long", () => post("/v1/chat/completions", { ...chat, stop: "x".repeat(300) }), 400, "stop"],
      [
        "message too long for a job",
        () => post("/v1/chat/completions", { ...chat, messages: [{ role: "user", content: "y".repeat(1_000_001) }] }),
        400,
        "messages.0.content",
      ],
      [
        "output cap fills the context",
        () => post("/v1/completions", { model: "tessera-tiny", prompt: "a", max_tokens: 32_768 }),
        400,
        "max_tokens",
      ],
      [
        "native output cap fills the context",
        () =>
          post("/v1/jobs", {
            runtime: "llm",
            model: modelId,
            input: { prompt: "a" },
            limits: { maxOutputTokens: 32_768 },
          }),
        400,
        "limits.maxOutputTokens",
      ],
      [
        "module not on the gateway",
        () => post("/v1/jobs", { runtime: "wasm", module: "e".repeat(64), input: { data: "" } }),
        404,
        "module",
      ],
      [
        "input blob not on the gateway",
        () => post("/v1/jobs", { runtime: "wasm", module: moduleId, input: { blob: "d".repeat(64) } }),
        404,
        "input.blob",
      ],
      [
        "Idempotency-Key too long",
        () => post("/v1/chat/completions", chat, { "idempotency-key": "k".repeat(201) }),
        400,
        "Idempotency-Key",
      ],
      ["unknown field named", () => post("/v1/chat/completions", { ...chat, evil: 1 }), 400, "evil"],
      ["job cursor of no job", () => as("/v1/jobs?cursor=garbage"), 400, "cursor"],
      ["batch cursor of no batch", () => as("/v1/batches?after=batch_nothing"), 400, "after"],
      ["file cursor of no file", () => as("/v1/files?after=file-nothing"), 400, "after"],
      [
        "batch metadata beyond 16 pairs",
        () =>
          post("/v1/batches", {
            input_file_id: "file-x",
            endpoint: "/v1/completions",
            completion_window: "24h",
            metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])),
          }),
        400,
        "metadata",
      ],
      [
        "multipart without a boundary",
        () =>
          as("/v1/files", {
            method: "POST",
            body: "purpose=batch",
            headers: { "content-type": "multipart/form-data" },
          }),
        400,
        null,
      ],
      [
        "cancel of no job",
        async () => {
          const res = await fetch(`${net.url}/v1/jobs/job_missing`, {
            method: "DELETE",
            headers: { authorization: `Bearer ${key}` },
          });
          return { status: res.status, body: (await res.json()) as Awaited<ReturnType<typeof call>>["body"] };
        },
        404,
        "id",
      ],
    ];
    for (const [name, send, status, param] of cases) {
      const r = await send();
      expect({ name, status: r.status, param: r.body.error?.param }).toEqual({ name, status, param });
      expect(r.body.error?.message, name).toEqual(expect.any(String));
    }
    const out = await post("/v1/completions", { model: "tessera-tiny", prompt: "a", max_tokens: 32_768 });
    expect(out.body.error).toMatchObject({ type: "invalid_request_error", code: "context_length_exceeded" });
    expect({ account: await account(), jobs: (await as("/v1/jobs")).body }).toEqual(before);
  });

  it("answers a job its provider refused as the job's own fault as a 400, refunded in full", async () => {
    const { apiKey: key } = await net.consumer();
    const before = (await call("/v1/account", { key })).body;
    // the gateway cannot count tokens; the provider finds the prompt too long for the context
    const r = await call("/v1/completions", {
      method: "POST",
      key,
      body: JSON.stringify({ model: "tessera-tiny", prompt: "word ".repeat(4000), max_tokens: 8 }),
    });
    expect(r.status).toBe(400);
    // OpenAI's code for it, naming the field to shorten
    expect(r.body.error).toMatchObject({
      type: "invalid_request_error",
      code: "context_length_exceeded",
      param: "prompt",
    });
    expect(r.body.error?.message).toContain("prompt too long");
    expect((await call("/v1/account", { key })).body).toMatchObject({
      balance: (before as unknown as { balance: string }).balance,
      escrow: "0",
    });
  });

  it("answers what is refused before routing in OpenAI's shape", async () => {
    const raw = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: { error?: { type: string; code: string } } }>((resolve, reject) => {
        const req = request(`${net.url}${path}`, { headers });
        req.on("response", (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on("error", reject);
        req.end();
      });
    const shape = { error: { type: "invalid_request_error", code: expect.any(String) } };
    expect(await raw("/v1/jobs/%FF%FE")).toMatchObject({ status: 400, body: shape });
    expect(await raw("/v1/account", { "x-padding": "p".repeat(100_000) })).toMatchObject({ status: 431, body: shape });
    expect(await raw("/v1/provider/connect")).toMatchObject({ status: 426, body: shape });
    expect((await fetch(`${net.url}/healthz`)).status).toBe(200);
  });

  it("treats a resent stake or unbond id as a no-op and the same id for another amount as a conflict", async () => {
    const providerId = "ab".repeat(32);
    const stake = { providerId, amount: "1000", id: "bond-1" };
    expect((await admin("/v1/admin/stake", stake)).body).toMatchObject({ stake: "1000", applied: true });
    expect((await admin("/v1/admin/stake", stake)).body).toMatchObject({ stake: "1000", applied: false });
    const otherStake = await admin("/v1/admin/stake", { ...stake, amount: "7" });
    expect({ status: otherStake.status, param: otherStake.body.error?.param }).toEqual({ status: 409, param: "id" });

    const unbond = { providerId, amount: "400", id: "out-1" };
    const first = (await admin("/v1/admin/unbond", unbond)).body as { stake: string; releaseAt: number };
    expect(first.stake).toBe("600");
    const again = (await admin("/v1/admin/unbond", unbond)).body;
    expect(again).toMatchObject({ stake: "600", applied: false, releaseAt: first.releaseAt });
    expect((await admin("/v1/admin/unbond", { ...unbond, amount: "1" })).status).toBe(409);
    const tooMuch = await admin("/v1/admin/unbond", { providerId, amount: "601" });
    expect({ status: tooMuch.status, code: tooMuch.body.error?.code }).toEqual({
      status: 402,
      code: "insufficient_balance",
    });
    expect(tooMuch.body.error?.message).toBe(
      `This unbond needs 601 nc but provider:${providerId}:stake has 600 nc available.`,
    );
    // nothing the refused requests asked for moved
    const ledger = (await admin("/v1/admin/ledger")).body as Ledger;
    expect(ledger.ok).toBe(true);
    expect(ledger.accounts[`provider:${providerId}:stake`]).toBe("600");
    expect(ledger.accounts[`provider:${providerId}:unbonding`]).toBe("400");
  });

  it("holds the ledger within what its integers store and refuses a deposit id reused for another amount", async () => {
    const { id } = (await admin("/v1/admin/consumers", { name: "filler", deposit: "1" })).body as { id: string };
    // 2^63 once crashed the gateway: it is refused by the schema now
    expect((await admin("/v1/admin/deposits", { consumerId: id, amount: (2n ** 63n).toString() })).status).toBe(400);
    const before = (await admin("/v1/admin/ledger")).body as Ledger;
    const held = before.accounts.external ?? "0";
    // what is left under the supply cap of 10^18 goes in; one more nano-credit does not
    const room = 10n ** 18n + BigInt(held);
    expect((await admin("/v1/admin/deposits", { consumerId: id, amount: room.toString(), id: "fill" })).status).toBe(
      201,
    );
    const over = await admin("/v1/admin/deposits", { consumerId: id, amount: "1" });
    expect({ status: over.status, param: over.body.error?.param }).toEqual({ status: 400, param: "amount" });
    // the same id again: harmless for the same deposit, a conflict for another
    expect(
      (await admin("/v1/admin/deposits", { consumerId: id, amount: room.toString(), id: "fill" })).body,
    ).toMatchObject({
      applied: false,
    });
    expect((await admin("/v1/admin/deposits", { consumerId: id, amount: "5", id: "fill" })).status).toBe(409);
    const after = (await admin("/v1/admin/ledger")).body as Ledger;
    expect(after.ok).toBe(true);
    expect(BigInt(after.accounts.external ?? "0")).toBe(-(10n ** 18n));
    // the explorer sums every account's journal: no overflow at the cap
    expect((await fetch(`${net.url}/v1/explorer/ledger`)).status).toBe(200);
  });

  it("rate-limits a key that sends too fast with 429", async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => call("/v1/account")));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
  });
});
