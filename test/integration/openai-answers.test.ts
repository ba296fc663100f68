// What an OpenAI answer tells a client beyond its body: the model object retrieved by id, and the
// job behind a non-streamed answer (a stream's headers name it).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

describe("OpenAI answers", () => {
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
