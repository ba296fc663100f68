// The provider channel after the hello: any key is free to make and authenticates, so what one
// connection may send is budgeted. A node that floods it is closed (4004) and the gateway keeps
// answering; an honest node streaming at its full concurrency alongside is never cut.
import { CLOSE_OVER_BUDGET } from "@tessera/gateway";
import type { Capabilities, ModelInfo } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork } from "../helpers/network.js";
import { type RawProvider, rawProvider } from "../helpers/raw-provider.js";

const OVER_BUDGET_LOG = "provider went over its frame budget";

describe("provider channel budget after the hello", () => {
  const net = new TestNetwork();
  let model: ModelInfo;
  let honestId: string;
  let apiKey: string;

  const caps = (region: string): Capabilities => ({
    runtimes: ["llm"],
    models: [model],
    pricePerUnit: 1_000, // dearer than the honest node: it is leased nothing
    region,
    maxConcurrency: 2,
    throughput: 100,
  });

  /** the close code once the gateway closes the connection, or "still open" after a minute */
  const closeOf = (p: RawProvider) =>
    Promise.race([p.closed, new Promise<"still open">((r) => setTimeout(() => r("still open"), 60_000))]);

  const listProviders = async () =>
    (
      (await (await fetch(`${net.url}/v1/providers`)).json()) as {
        data: { id: string; online: boolean; models: ModelInfo[] }[];
      }
    ).data;

  /** A streamed chat completion for the honest node; resolves with the text it streamed. */
  async function streamedChat(): Promise<string> {
    const r = await fetch(`${net.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "tessera-tiny",
        messages: [{ role: "user", content: "Tell me a long story about the sea" }],
        max_tokens: 200,
        stream: true,
      }),
    });
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(body).toContain("data: [DONE]");
    return body
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content ?? "")
      .join("");
  }

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0", "--canary-rate", "0", "--heartbeat-ms", "500"]);
    await net.startProvider({ concurrency: 4, region: "honest" });
    await net.waitForProviders(1);
    const [p] = await listProviders();
    honestId = p!.id;
    model = { ...p!.models[0]!, contextSize: 2048 };
    apiKey = (await net.consumer()).apiKey;
  }, 120_000);
  afterAll(() => net.stop());

  it("closes a node that floods it with heartbeats and invalid frames, while an honest node streams on", async () => {
    const flood = await rawProvider(net.port, caps("flood"));
    // the honest node streams at its full concurrency throughout
    const chats = Promise.all(Array.from({ length: 12 }, streamedChat));
    const heartbeat = JSON.stringify({
      type: "heartbeat",
      running: Array.from({ length: 1024 }, (_, i) => ({ jobId: `job_${i}`, attempt: 1 })),
    });
    for (let i = 0; i < 2000; i++) flood.send(heartbeat);
    for (let i = 0; i < 20_000; i++) flood.send('{"type":"nope"}');
    for (let i = 0; i < 20_000; i++) flood.send({ type: "result", jobId: `job_${i}`, attempt: 1 });

    expect(await closeOf(flood)).toMatchObject({ code: CLOSE_OVER_BUDGET, reason: expect.stringContaining("budget") });
    expect((await fetch(`${net.url}/healthz`)).status).toBe(200);
    const texts = await chats;
    expect(texts.every((t) => t.length > 0)).toBe(true);
    const log = net.gateway!.output();
    expect(log).toContain(OVER_BUDGET_LOG);
    expect(log).toContain(flood.id);
    // the honest node was never cut and is still online
    expect(log.split("\n").some((l) => l.includes(OVER_BUDGET_LOG) && l.includes(honestId))).toBe(false);
    expect((await listProviders()).find((p) => p.id === honestId)).toMatchObject({ online: true });
  }, 180_000);

  it("closes a node that sends valid frames about jobs it does not hold faster than any honest node", async () => {
    const chatter = await rawProvider(net.port, caps("chatter"));
    for (let i = 0; i < 50_000; i++) chatter.send({ type: "chunk", jobId: "job_none", attempt: 1, seq: i, text: "x" });
    expect(await closeOf(chatter)).toMatchObject({ code: CLOSE_OVER_BUDGET });
    expect((await fetch(`${net.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it("refuses a heartbeat listing far more jobs than the node can hold", async () => {
    const p = await rawProvider(net.port, caps("big-heartbeat"));
    p.send({
      type: "heartbeat",
      running: Array.from({ length: 1024 }, (_, i) => ({ jobId: `job_${i}`, attempt: 1 })),
    });
    expect(await p.next((m) => m.type === "error")).toMatchObject({
      code: "bad_frame",
      message: expect.stringContaining("at most 20 jobs"),
    });
    // one such frame is answered, not punished with a close
    p.send({ type: "heartbeat", running: [] });
    p.send("not json");
    expect(await p.next((m) => m.type === "error")).toMatchObject({ code: "bad_frame" });
    expect(p.ws.readyState).toBe(p.ws.OPEN);
    p.ws.close();
  });
});
