// A model's public name under --min-stake: keys are free, so nodes the scheduler would not lease
// to (unstaked here) must not decide which file a name means. Two such keys offering another file
// under the staked node's model name took the name over, and requests by it waited for nodes that
// would never run them.
import type { Capabilities } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { type RawProvider, rawProvider } from "../helpers/raw-provider.js";

const FAKE = "ab".repeat(32);

describe("model names with unstaked nodes online", () => {
  const net = new TestNetwork();
  let apiKey: string;
  let realId: string;
  const sybils: RawProvider[] = [];

  const models = async () => {
    const r = await fetch(`${net.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    return ((await r.json()) as { data: { id: string; content_id: string; providers_online: number }[] }).data;
  };

  const chat = () =>
    fetch(`${net.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tessera-tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 8 }),
    });

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0", "--canary-rate", "0", "--min-stake", "1000"]);
    await net.startProvider({ region: "staked" });
    await net.waitForProviders(1);
    const listed = (await (await fetch(`${net.url}/v1/providers`)).json()) as {
      data: { id: string; models: { id: string }[] }[];
    };
    const honest = listed.data[0]!;
    realId = honest.models[0]!.id;
    // enough to back a chat job: a job is leased only to a node whose stake is 40 × its escrow
    const staked = await net.adminPost("/v1/admin/stake", {
      providerId: honest.id,
      amount: "1000000000000",
      id: "bond-honest",
    });
    expect(staked.status).toBe(200);
    apiKey = (await net.consumer()).apiKey;
    // the staked node is scheduled once it has shown its capacity
    expect((await chat()).status).toBe(200);
  }, 180_000);
  afterAll(async () => {
    for (const s of sybils) s.ws.close();
    await net.stop();
  });

  it("keeps the name on the staked node's file while two unstaked keys offer another under it", async () => {
    const caps: Capabilities = {
      runtimes: ["llm"],
      models: [{ id: FAKE, name: "tessera-tiny", parameters: 1_437_312, contextSize: 2048 }],
      pricePerUnit: 50,
      region: "sybil",
      maxConcurrency: 2,
      throughput: 100,
    };
    sybils.push(await rawProvider(net.port, caps), await rawProvider(net.port, caps));
    await until("both keys online", async () => (await net.admin.health()).providers === 3);

    const listed = await models();
    expect(listed.find((m) => m.id === "tessera-tiny")?.content_id).toBe(realId);
    expect(listed.find((m) => m.id === `tessera-tiny@${FAKE.slice(0, 12)}`)).toMatchObject({
      content_id: FAKE,
      providers_online: 0, // online, but no request would go to them
    });
    expect(listed.find((m) => m.id === "tessera-tiny")?.providers_online).toBe(1);
    const r = await chat();
    expect(r.status).toBe(200);
    expect(((await r.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0);

    // the staked node goes away: the keys still online count for nothing, so the name stays put
    await net.providers[0]!.kill("SIGKILL");
    await until("the staked node offline", async () => (await net.admin.health()).providers === 2);
    expect((await models()).find((m) => m.id === "tessera-tiny")?.content_id).toBe(realId);
  }, 120_000);
});
