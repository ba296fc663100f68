// A non-streamed OpenAI request whose job outlives --answer-wait-ms: without an Idempotency-Key
// the job is cancelled and refunded and the request answers 504 (left running, it was billed in
// full for an answer no client would get); with one, the job goes on so that a retry collects it.
// The node is a raw WebSocket client that takes the lease and never answers.
import type { Capabilities } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { type RawProvider, rawProvider } from "../helpers/raw-provider.js";

const SLOW = "cd".repeat(32);

describe("a non-streamed answer that takes too long", () => {
  const net = new TestNetwork();
  let node: RawProvider;

  beforeAll(async () => {
    await net.startGateway(["--answer-wait-ms", "1500", "--rate-limit", "0", "--canary-rate", "0"]);
    const caps: Capabilities = {
      runtimes: ["llm"],
      models: [{ id: SLOW, name: "slow-model", parameters: 1_000_000, contextSize: 2048 }],
      pricePerUnit: 50,
      region: "slow",
      maxConcurrency: 4,
      throughput: 100,
    };
    node = await rawProvider(net.port, caps);
    await until("the node online", async () => (await net.admin.health()).providers === 1);
  }, 120_000);
  afterAll(async () => {
    node?.ws.close();
    await net.stop();
  });

  const chat = (apiKey: string, headers: Record<string, string> = {}) =>
    fetch(`${net.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "slow-model", messages: [{ role: "user", content: "hi" }], max_tokens: 8 }),
    });

  it("cancels and refunds the job, answering 504, when no Idempotency-Key can collect it", async () => {
    const { client, apiKey } = await net.consumer();
    const before = await client.account();
    // capacity shown, the node takes the lease and sits on it
    const r = await chat(apiKey);
    expect(r.status).toBe(504);
    const body = (await r.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error).toMatchObject({ code: "timeout", type: "server_error" });
    expect(body.error.message).toMatch(/cancelled and its escrow refunded/);
    const jobId = r.headers.get("x-tessera-job-id") as string;
    expect((await client.getJob(jobId)).status).toBe("cancelled");
    await node.next((m) => m.type === "cancel" && m.jobId === jobId);
    const after = await client.account();
    expect(after.balance).toBe(before.balance);
    expect(after.escrow).toBe("0");
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 60_000);

  it("leaves the job running for a request with an Idempotency-Key, whose retry finds it", async () => {
    const { client, apiKey } = await net.consumer();
    const r = await chat(apiKey, { "idempotency-key": "slow-1" });
    expect(r.status).toBe(504);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/same Idempotency-Key/);
    const jobId = r.headers.get("x-tessera-job-id") as string;
    expect((await client.getJob(jobId)).status).toBe("running");
    // the retry is the same job, still waited on
    const again = await chat(apiKey, { "idempotency-key": "slow-1" });
    expect(again.headers.get("x-tessera-job-id")).toBe(jobId);
    await again.body?.cancel();
    expect((await client.cancelJob(jobId)).status).toBe("cancelled");
    expect((await client.account()).escrow).toBe("0");
  }, 60_000);
});
