// Bad input at the boundary: each gets the right 4xx in OpenAI's error shape and changes nothing.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork } from "../helpers/network.js";

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
    modelId = ((await (await fetch(`${net.url}/v1/models`)).json()) as { data: { content_id: string }[] }).data[0]!
      .content_id;
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

  it("rate-limits a key that sends too fast with 429", async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => call("/v1/account")));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
  });
});
