import { canonicalHash, LlmOutputSchema, verifyResultSignature } from "@tessera/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { startTestProvider } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("provider with the real LLM runtime and the tiny model", () => {
  it("streams chunks that concatenate to the final text and returns a verifiable result", async () => {
    gateway = await FakeGateway.start();
    const provider = await startTestProvider(gateway, { tinyModel: true, concurrency: 1 });
    expect(provider.capabilities.runtimes).toEqual(["llm", "wasm"]);
    const model = provider.capabilities.models[0];
    expect(model).toBeDefined();
    if (!model) return;
    const conn = await gateway.session(0);
    expect(conn.hello?.capabilities.models).toEqual([model]);
    conn.send({
      type: "lease",
      jobId: "llm-1",
      attempt: 1,
      spec: {
        runtime: "llm",
        model: model.id,
        input: { prompt: "The world is" },
        params: { temperature: 0 },
        limits: { maxOutputTokens: 24 },
      },
      leaseExpiresAt: Date.now() + 60_000,
    });
    const result = await conn.waitFor("result", (m) => m.jobId === "llm-1");
    const output = LlmOutputSchema.parse(result.output);
    const chunks = conn.of("chunk").filter((c) => c.jobId === "llm-1");
    expect(output.tokens.length).toBeGreaterThan(0);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(chunks.map((c) => c.text).join("")).toBe(output.text);
    expect(chunks.flatMap((c) => c.tokens ?? [])).toEqual(output.tokens);
    // Every chunk precedes the result on the wire.
    expect(Math.max(...chunks.map((c) => conn.messages.indexOf(c)))).toBeLessThan(conn.messages.indexOf(result));
    expect(result.outputHash).toBe(canonicalHash(output));
    expect(verifyResultSignature(provider.nodeId, result, result.signature)).toBe(true);
    expect(result.units.outputTokens).toBe(output.tokens.length);
    expect(result.units.standardUnits).toBeGreaterThan(0);
    // the first chunk counts the prompt (what a stream stopped mid-way bills for it), no other does
    expect(result.units.inputTokens).toBeGreaterThan(0);
    expect(chunks.map((c) => c.promptTokens)).toEqual(
      chunks.map((_, i) => (i === 0 ? result.units.inputTokens : undefined)),
    );
  }, 60_000);

  it("sends no chunk frames when the gateway says nobody streams, and the same result", async () => {
    gateway = await FakeGateway.start();
    const provider = await startTestProvider(gateway, { tinyModel: true, concurrency: 1 });
    const model = provider.capabilities.models[0];
    if (!model) throw new Error("no model");
    const conn = await gateway.session(0);
    const spec = {
      runtime: "llm" as const,
      model: model.id,
      input: { prompt: "The world is" },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 16 },
    };
    const leaseExpiresAt = Date.now() + 60_000;
    conn.send({ type: "lease", jobId: "quiet", attempt: 1, spec, leaseExpiresAt, stream: false });
    const quiet = await conn.waitFor("result", (m) => m.jobId === "quiet");
    conn.send({ type: "lease", jobId: "loud", attempt: 1, spec, leaseExpiresAt, stream: true });
    const loud = await conn.waitFor("result", (m) => m.jobId === "loud");
    expect(conn.of("chunk").filter((c) => c.jobId === "quiet")).toEqual([]);
    expect(conn.of("chunk").filter((c) => c.jobId === "loud").length).toBeGreaterThan(0);
    expect(quiet.outputHash).toBe(loud.outputHash); // greedy: the same tokens either way
  }, 60_000);

  it("refuses, as retryable, an llm lease for a model it does not serve", async () => {
    gateway = await FakeGateway.start();
    await startTestProvider(gateway, { tinyModel: true, concurrency: 1 });
    const conn = await gateway.session(0);
    conn.send({
      type: "lease",
      jobId: "other-model",
      attempt: 1,
      spec: { runtime: "llm", model: "f".repeat(64), input: { prompt: "hi" } },
      leaseExpiresAt: Date.now() + 60_000,
    });
    const failure = await conn.waitFor("failure");
    expect(failure).toMatchObject({ jobId: "other-model", retryable: true });
    expect(failure.reason).toMatch(/not served/);
  }, 60_000);
});
