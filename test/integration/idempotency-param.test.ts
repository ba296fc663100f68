// A 409 for an idempotency key reused with another body names the key as the client sent it: the
// `Idempotency-Key` header (OpenAI routes, or a native job that sent the header) or a native body's
// `idempotencyKey`. It named the body field even for a header, which a client of the OpenAI
// routes never sends. The node is a raw channel client that takes leases and never answers.
import type { GatewayHandle } from "@tessera/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";
import { type RawProvider, rawProvider } from "../helpers/raw-provider.js";

const MODEL = "cd".repeat(32);

describe("an idempotency key reused with another body", () => {
  let gw: GatewayHandle;
  let apiKey: string;
  let node: RawProvider;

  beforeAll(async () => {
    // a chat answer not ready at once is a 504 and, with a key, its job goes on for a retry to collect
    ({ gw, apiKey } = await gatewayInProcess({ rateLimitPerSecond: 0, answerWaitMs: 1 }));
    node = await rawProvider(gw.port, {
      runtimes: ["llm"],
      models: [{ id: MODEL, name: "idem-model", parameters: 1_000_000, contextSize: 2048 }],
      pricePerUnit: 50,
      region: "here",
      maxConcurrency: 8,
      throughput: 100,
    });
  });
  afterAll(async () => {
    node?.ws.close();
    await node?.closed;
    await gw?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const nativeJob = (prompt: string, extra: Record<string, unknown> = {}) => ({
    runtime: "llm",
    model: MODEL,
    input: { prompt },
    limits: { maxOutputTokens: 4 },
    ...extra,
  });
  const conflict = async (r: Response) => {
    expect(r.status).toBe(409);
    return ((await r.json()) as { error: unknown }).error;
  };

  it("names the Idempotency-Key header when a native job sent the key there", async () => {
    const h = { "idempotency-key": "native-header" };
    expect((await post("/v1/jobs", nativeJob("a"), h)).status).toBe(202);
    expect(await conflict(await post("/v1/jobs", nativeJob("b"), h))).toEqual({
      message: "Idempotency key 'native-header' was already used with a different request body.",
      type: "conflict_error",
      param: "Idempotency-Key",
      code: "idempotency_conflict",
    });
  });

  it("names the body's idempotencyKey when a native job sent the key there", async () => {
    expect((await post("/v1/jobs", nativeJob("a", { idempotencyKey: "native-body" }))).status).toBe(202);
    const error = await conflict(await post("/v1/jobs", nativeJob("b", { idempotencyKey: "native-body" })));
    expect(error).toMatchObject({ param: "idempotencyKey", code: "idempotency_conflict" });
  });

  it("names the Idempotency-Key header on the OpenAI routes", async () => {
    const h = { "idempotency-key": "chat-header" };
    const chat = (content: string) => ({ model: "idem-model", messages: [{ role: "user", content }], max_tokens: 4 });
    // the node never answers: the first request ends in a 504 with its job still queued or running
    expect((await post("/v1/chat/completions", chat("a"), h)).status).toBe(504);
    const error = await conflict(await post("/v1/chat/completions", chat("b"), h));
    expect(error).toMatchObject({ type: "conflict_error", param: "Idempotency-Key", code: "idempotency_conflict" });
  });
});
