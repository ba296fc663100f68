// Batch input lines, generated: fast-check derives each line of two input files from a valid one
// (a field set to any JSON value, deleted, or a stranger added; random JSON; text that is not
// JSON; blank lines), one file of chat completions and one of native WASM jobs, and the official
// `openai` client runs them as batches on a real gateway with a real provider. Nothing about one
// line may fail a batch: it completes, every non-blank input line is in exactly one of its two
// files (each line an OpenAI batch line, a response or an error), no custom_id completes twice,
// the counts agree with the files, and the consumer's money adds up to the cent.
import { loadBuiltinModule } from "@tessera/runtimes";
import fc from "fast-check";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileLines } from "../helpers/batch-files.js";
import { bodyPlan, cancelUnfinished, type Json, settledJobs } from "../helpers/fuzz.js";
import { TestNetwork, until } from "../helpers/network.js";

/** A line: mostly made by bodyPlan from the valid one for its number, else blank or odd text. */
const lineArb = (valid: (i: number) => Json) =>
  fc.oneof(
    { weight: 12, arbitrary: bodyPlan.map((plan) => (i: number) => plan(valid(i))) },
    { weight: 1, arbitrary: fc.constantFrom(" ", "\t", "\r", "").map((blank) => () => blank) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => () => text) },
  );

// the same lines every run; TESSERA_FUZZ_SEED and TESSERA_FUZZ_RUNS (lines a file) explore others
const LINES = Number(process.env.TESSERA_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.TESSERA_FUZZ_SEED ?? 20261207);

describe("batches of generated input lines", () => {
  const net = new TestNetwork();
  const DEPOSIT = 1_000n * 1_000_000_000n;
  let apiKey: string;
  let openai: OpenAI;
  let reverse: string;

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0"]);
    await net.startProvider({ runtimes: ["llm", "wasm"], concurrency: 4 });
    await net.waitForProviders(1);
    const consumer = await net.consumer(DEPOSIT);
    apiKey = consumer.apiKey;
    openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    reverse = (await consumer.client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  }, 120_000);
  afterAll(() => net.stop());

  async function runBatch(endpoint: "/v1/chat/completions" | "/v1/jobs", valid: (i: number) => Json, seed: number) {
    const makers = fc.sample(lineArb(valid), { numRuns: LINES, seed });
    const text = `${makers.map((make, i) => make(i)).join("\n")}\n`;
    const nonBlank = text.split("\n").filter((l) => l.trim() !== "").length;
    const file = await openai.files.create({ file: await toFile(Buffer.from(text), "fuzz.jsonl"), purpose: "batch" });
    const created = await openai.batches.create({
      input_file_id: file.id,
      // the client's type knows OpenAI's endpoints only; the gateway also takes native job lines
      endpoint: endpoint as "/v1/chat/completions",
      completion_window: "24h",
    });
    const batch = await until(
      "the batch to end",
      async () => {
        const b = await openai.batches.retrieve(created.id);
        return ["completed", "failed", "cancelled", "expired"].includes(b.status) ? b : undefined;
      },
      300_000,
    );
    expect(batch.status).toBe("completed");
    const output = await fileLines(openai, batch.output_file_id);
    const errors = await fileLines(openai, batch.error_file_id);
    expect(batch.request_counts).toEqual({ total: nonBlank, completed: output.length, failed: errors.length });
    expect(output.length + errors.length).toBe(nonBlank);
    for (const line of output) {
      expect(line.response?.status_code).toBe(200);
      expect(line.error).toBeNull();
    }
    for (const line of errors) expect(typeof line.error?.code).toBe("string");
    const done = output.map((l) => l.custom_id);
    expect(new Set(done).size).toBe(done.length);
    return { batch, output, errors };
  }

  it("completes every batch with each line answered once and the money adding up", async () => {
    const chat = await runBatch(
      "/v1/chat/completions",
      (i) => ({
        custom_id: `c${i}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: { model: "tessera-tiny", messages: [{ role: "user", content: `line ${i}` }], max_tokens: 3 },
      }),
      SEED,
    );
    const jobs = await runBatch(
      "/v1/jobs",
      (i) => ({
        custom_id: `j${i}`,
        method: "POST",
        url: "/v1/jobs",
        body: {
          runtime: "wasm",
          module: reverse,
          input: { data: Buffer.from(`line ${i}`).toString("base64") },
          limits: { timeoutMs: 2_000, maxMemoryMb: 16 },
        },
      }),
      SEED + 1,
    );
    // the generated lines reached the runtimes, and some were refused
    for (const b of [chat, jobs]) {
      expect(b.output.length).toBeGreaterThan(10);
      expect(b.errors.length).toBeGreaterThan(10);
    }
    // a job of a line that sets a region no node has waits its deadline (a day): cancelled
    await cancelUnfinished(net, apiKey);
    const settled = await settledJobs(net, apiKey, DEPOSIT);
    const costs = settled.reduce((sum, j) => sum + BigInt(j.cost ?? "0"), 0n);
    const spent = [chat, jobs].reduce(
      (sum, b) => sum + BigInt((b.batch as unknown as { tessera: { spent: string } }).tessera.spent),
      0n,
    );
    expect(spent).toBe(costs);
  }, 900_000);
});
