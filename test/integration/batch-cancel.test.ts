// Cancelling a batch while another batch of the same consumer holds every in-flight slot, with
// no provider online (one came and went, so the model is known) so that nothing frees a slot: the cancel must not wait for one.
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

function input(tag: string, n: number): Buffer {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${tag}-${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "tessera-tiny", messages: [{ role: "user", content: `${tag} ${i}` }], max_tokens: 2 },
    }),
  );
  return Buffer.from(`${lines.join("\n")}\n`);
}

describe("batch cancel with the consumer's slots all taken", () => {
  const net = new TestNetwork();
  beforeAll(async () => {
    await net.startGateway(["--batch-in-flight", "2"]);
    // the gateway learns the model from a provider, which then goes away: lines wait for capacity
    await net.startProvider();
    await net.waitForProviders(1);
    await net.providers[0]?.kill("SIGKILL");
    await until("no provider online", async () => (await net.admin.health()).providers === 0);
  }, 120_000);
  afterAll(() => net.stop());

  it("cancels a batch waiting for an in-flight slot that another batch holds", async () => {
    const { apiKey, client } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const create = async (tag: string) => {
      const file = await openai.files.create({ file: await toFile(input(tag, 5), `${tag}.jsonl`), purpose: "batch" });
      return openai.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
    };
    const a = await create("a");
    await until(
      "batch a to hold both slots",
      async () => (await openai.batches.retrieve(a.id)).status === "in_progress",
    );
    const b = await create("b");
    await until(
      "batch b to wait for a slot",
      async () => (await openai.batches.retrieve(b.id)).status === "in_progress",
    );
    expect((await openai.batches.cancel(b.id)).status).toBe("cancelling");
    const done = await until("batch b cancelled", async () => {
      const now = await openai.batches.retrieve(b.id);
      return now.status === "cancelled" ? now : undefined;
    });
    expect(done.request_counts).toEqual({ total: 5, completed: 0, failed: 5 });
    // batch a still holds its slots and goes on; cancelled, it ends too, and nothing stays in escrow
    expect((await openai.batches.retrieve(a.id)).status).toBe("in_progress");
    await openai.batches.cancel(a.id);
    await until("batch a cancelled", async () => (await openai.batches.retrieve(a.id)).status === "cancelled");
    expect((await client.account()).escrow).toBe("0");
  }, 120_000);
});
