// The official `openai` client drives Files and Batches end to end against a real gateway and
// real provider processes: upload, create, poll, cancel, list, download.
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

interface Line {
  id: string;
  custom_id: string | null;
  response: {
    status_code: number;
    body: { object?: string; tessera: { cost: string; standard_units: number }; error?: { code: string } };
  } | null;
  error: { code: string; message: string } | null;
}

function chatLine(i: number, maxTokens = 2) {
  return JSON.stringify({
    custom_id: `req-${i}`,
    method: "POST",
    url: "/v1/chat/completions",
    body: {
      model: "tessera-tiny",
      messages: [{ role: "user", content: `line ${i}` }],
      max_tokens: maxTokens,
      temperature: 0,
    },
  });
}

const MALFORMED = [
  "{ not json",
  JSON.stringify({ custom_id: "bad-url", method: "POST", url: "/v1/embeddings", body: {} }),
  JSON.stringify({
    custom_id: "bad-body",
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "tessera-tiny" },
  }),
  JSON.stringify({
    custom_id: "bad-model",
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "nope", messages: [{ role: "user", content: "x" }] },
  }),
  JSON.stringify({
    custom_id: "extra-field",
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "tessera-tiny", messages: [{ role: "user", content: "x" }], frobnicate: true },
  }),
];

async function content(openai: OpenAI, id: string | null | undefined): Promise<Line[]> {
  if (!id) return [];
  const text = await (await openai.files.content(id)).text();
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Line);
}

async function waitFinal(openai: OpenAI, id: string) {
  return until(
    `batch ${id} final`,
    async () => {
      const b = await openai.batches.retrieve(id);
      return ["completed", "cancelled", "expired", "failed"].includes(b.status) ? b : undefined;
    },
    240_000,
  );
}

describe("OpenAI Batch API through the official client", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway(["--batch-in-flight", "16"]);
    await net.startProvider({ concurrency: 2, price: 50, extra: ["--batch-price", "20"] });
    await net.startProvider({ concurrency: 2, price: 50, extra: ["--batch-price", "20"] });
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(() => net.stop());

  it("runs a batch with 5% malformed lines: good lines in the output, bad ones in the error file with a reason, charged at the batch price", async () => {
    const { apiKey, client } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) lines.push(i % 20 === 7 ? (MALFORMED[(i / 20) | 0] as string) : chatLine(i));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${lines.join("\n")}\n`), "in.jsonl"),
      purpose: "batch",
    });
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "in.jsonl" });
    expect((await openai.files.retrieve(file.id)).bytes).toBe(Buffer.byteLength(`${lines.join("\n")}\n`));

    const before = await client.account();
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect(created.status).toBe("validating");
    const done = await waitFinal(openai, created.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 100, completed: 95, failed: 5 });

    const out = await content(openai, done.output_file_id);
    const errs = await content(openai, done.error_file_id);
    expect(out).toHaveLength(95);
    expect(errs).toHaveLength(5);
    const ids = [...out, ...errs].map((l) => l.id);
    expect(new Set(ids).size).toBe(100);
    for (const l of out) {
      expect(l.response?.status_code).toBe(200);
      expect(l.response?.body.object).toBe("chat.completion");
      expect(l.custom_id).toMatch(/^req-\d+$/);
    }
    expect(errs.map((e) => e.custom_id).sort()).toEqual(
      ["bad-body", "bad-model", "bad-url", "extra-field", null].sort(),
    );
    for (const e of errs) expect(e.error?.message).toMatch(/^line \d+: /);

    // charged once per completed line, at the batch price (20 nc/SU, not 50), which /v1/providers shows
    const listed = (await client.providers()).data;
    expect(listed.map((p) => [p.pricePerUnit, p.batchPricePerUnit])).toEqual([
      [50, 20],
      [50, 20],
    ]);
    const costs = out.map((l) => BigInt(l.response?.body.tessera.cost ?? 0));
    const total = costs.reduce((a, b) => a + b, 0n);
    for (const l of out) {
      const t = l.response?.body.tessera;
      expect(BigInt(t?.cost ?? -1)).toBe(BigInt((t?.standard_units ?? 0) * 20));
    }
    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(total);
    expect(after.escrow).toBe("0");
    expect((done as unknown as { tessera: { spent: string } }).tessera.spent).toBe(total.toString());
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 300_000);

  it("sends a line whose custom_id an earlier line used to the error file, running the first one", async () => {
    const { apiKey } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const lines = [chatLine(1), chatLine(2), chatLine(1, 3), chatLine(3)];
    const file = await openai.files.create({
      file: await toFile(Buffer.from(`${lines.join("\n")}\n`), "dup.jsonl"),
      purpose: "batch",
    });
    const created = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const done = await waitFinal(openai, created.id);
    expect(done.request_counts).toEqual({ total: 4, completed: 3, failed: 1 });
    const out = await content(openai, done.output_file_id);
    const errs = await content(openai, done.error_file_id);
    expect(out.map((l) => l.custom_id).sort()).toEqual(["req-1", "req-2", "req-3"]);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ custom_id: "req-1", error: { code: "duplicate_custom_id" } });
    expect(errs[0]?.error?.message).toMatch(/^line 3: custom_id 'req-1' is used by an earlier line/);
    expect((await net.admin.ledger()).ok).toBe(true);

    // once the batch is done its files can be deleted
    for (const id of [file.id, done.output_file_id as string]) {
      await expect(openai.files.delete(id)).resolves.toEqual({ id, object: "file", deleted: true });
      await expect(openai.files.retrieve(id)).rejects.toMatchObject({ status: 404 });
      await expect(openai.files.delete(id)).rejects.toMatchObject({ status: 404 });
    }
    expect((await openai.files.list()).data.map((f) => f.id)).not.toContain(file.id);
  }, 120_000);

  it("keeps a line nested too deeply to canonicalise, and non-ASCII ids, to that line; lists files by purpose and order", async () => {
    const { apiKey } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    // valid JSON that JSON.parse reads, but deeper than a recursive canonicaliser's stack
    const depth = 200_000;
    const deep = `{"custom_id":"deep","method":"POST","url":"/v1/chat/completions","body":{"model":"tessera-tiny","x":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
    const unicode = JSON.stringify({ ...JSON.parse(chatLine(2)), custom_id: "réq-日本語-ü" });
    const file = await openai.files.create({
      file: await toFile(Buffer.from([chatLine(1), deep, unicode].join("\n")), "deep.jsonl"),
      purpose: "batch",
    });
    const b = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const done = await waitFinal(openai, b.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const out = await content(openai, done.output_file_id);
    expect(out.map((l) => l.custom_id).sort()).toEqual(["req-1", "réq-日本語-ü"]);
    const errs = await content(openai, done.error_file_id);
    expect(errs).toEqual([expect.objectContaining({ custom_id: "deep" })]);
    expect(errs[0]?.error?.message).toMatch(/nests too deeply/);
    // the gateway is still there, and the next batch runs
    expect((await net.admin.health()).ok).toBe(true);

    const purposes = async (q: Record<string, string>) =>
      (await openai.files.list(q as never)).data.map((f) => [f.id, f.purpose]);
    // what the batch wrote: its output and its error file
    expect((await purposes({ purpose: "batch_output" })).map(([id]) => id).sort()).toEqual(
      [done.output_file_id, done.error_file_id].sort(),
    );
    expect(await purposes({ purpose: "batch" })).toEqual([[file.id, "batch"]]);
    expect(await purposes({ purpose: "fine-tune" })).toEqual([]);
    const newest = (await purposes({})).map(([id]) => id);
    expect(newest[newest.length - 1]).toBe(file.id);
    expect((await purposes({ order: "asc" })).map(([id]) => id)).toEqual([...newest].reverse());
  }, 120_000);

  it("a cancel while the batch is still validating never sends it back to in_progress", async () => {
    const { apiKey, client } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const lines = Array.from({ length: 20_000 }, (_, i) => chatLine(i, 300));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(lines.join("\n")), "v.jsonl"),
      purpose: "batch",
    });
    const b = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const seen = [(await openai.batches.cancel(b.id)).status];
    const retried: string[] = [];
    const done = await until(
      "the cancelled batch to end",
      async () => {
        const now = await openai.batches.retrieve(b.id);
        seen.push(now.status);
        // a retried cancel answers the same, whatever state the batch is in on its way out
        if (now.status !== "cancelled")
          retried.push(
            await openai.batches.cancel(b.id).then(
              (x) => x.status,
              (e: Error) => e.message,
            ),
          );
        return now.status === "cancelled" ? now : undefined;
      },
      120_000,
    );
    expect(
      seen.slice(seen.indexOf("cancelling")).every((s) => /^cancell(ing|ed)$/.test(s)),
      seen.join(" "),
    ).toBe(true);
    expect(
      retried.every((s) => /^cancell(ing|ed)$/.test(s)),
      retried.join(" "),
    ).toBe(true);
    expect(done.request_counts?.total).toBe(20_000);
    expect((done.request_counts?.completed ?? 0) + (done.request_counts?.failed ?? 0)).toBe(20_000);
    expect((await client.account()).escrow).toBe("0");
  }, 180_000);

  it("cancels a batch midway: finished lines stay in the output, the rest are refunded and reported as cancelled", async () => {
    const { apiKey, client } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    // enough long lines that the batch is still running when the cancel arrives, even on a
    // loaded machine where the poll below is slow to notice the first completions
    const lines = Array.from({ length: 1000 }, (_, i) => chatLine(i, 200));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(lines.join("\n")), "c.jsonl"),
      purpose: "batch",
    });
    const before = await client.account();
    const b = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await until(
      "some lines done",
      async () => ((await openai.batches.retrieve(b.id)).request_counts?.completed ?? 0) >= 5 || undefined,
    );
    // the input of a running batch cannot be deleted
    await expect(openai.files.delete(file.id)).rejects.toMatchObject({ status: 409, code: "file_in_use" });
    const cancelling = await openai.batches.cancel(b.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const done = await waitFinal(openai, b.id);
    expect(done.status).toBe("cancelled");
    const out = await content(openai, done.output_file_id);
    const errs = await content(openai, done.error_file_id);
    expect(out.length + errs.length).toBe(1000);
    expect(new Set([...out, ...errs].map((l) => l.custom_id)).size).toBe(1000);
    expect(errs.length).toBeGreaterThan(0);
    for (const e of errs) expect(e.error?.code ?? e.response?.body.error?.code).toMatch(/batch_cancelled|cancel/);
    const total = out.reduce((a, l) => a + BigInt(l.response?.body.tessera.cost ?? 0), 0n);
    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(total);
    expect(after.escrow).toBe("0");
    expect(done.request_counts).toEqual({ total: 1000, completed: out.length, failed: errs.length });

    const listed = await openai.batches.list({ limit: 10 });
    expect(listed.data.map((x) => x.id)).toContain(b.id);
    await expect(openai.batches.cancel(b.id)).resolves.toMatchObject({ status: "cancelled" });
  }, 300_000);

  it("expires a batch at the end of its completion window: unfinished lines are refunded and reported as batch_expired", async () => {
    const { apiKey, client } = await net.consumer();
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey, maxRetries: 0 });
    const lines = Array.from({ length: 300 }, (_, i) => chatLine(i, 300));
    const file = await openai.files.create({
      file: await toFile(Buffer.from(lines.join("\n")), "e.jsonl"),
      purpose: "batch",
    });
    const before = await client.account();
    const b = await openai.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "3s" as "24h",
    });
    expect((b.expires_at ?? 0) - b.created_at).toBe(3);
    const done = await waitFinal(openai, b.id);
    expect(done.status).toBe("expired");
    expect(done.expired_at).not.toBeNull();
    const out = await content(openai, done.output_file_id);
    const errs = await content(openai, done.error_file_id);
    expect(new Set([...out, ...errs].map((l) => l.custom_id)).size).toBe(300);
    expect(out.length + errs.length).toBe(300);
    expect(errs.some((e) => e.error?.code === "batch_expired")).toBe(true);
    const total = out.reduce((a, l) => a + BigInt(l.response?.body.tessera.cost ?? 0), 0n);
    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(total);
    expect(after.escrow).toBe("0");
  }, 120_000);

  it("answers OpenAI-shaped errors for a bad purpose, an unknown file and another consumer's batch", async () => {
    const a = await net.consumer();
    const b = await net.consumer();
    const oa = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: a.apiKey, maxRetries: 0 });
    const ob = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: b.apiKey, maxRetries: 0 });
    await expect(
      oa.files.create({ file: await toFile(Buffer.from(chatLine(1)), "x.jsonl"), purpose: "fine-tune" }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      oa.batches.create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" }),
    ).rejects.toMatchObject({ status: 404 });
    const f = await oa.files.create({ file: await toFile(Buffer.from(chatLine(1)), "x.jsonl"), purpose: "batch" });
    await expect(ob.files.retrieve(f.id)).rejects.toMatchObject({ status: 404 });
    const batch = await oa.batches.create({
      input_file_id: f.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await expect(ob.batches.retrieve(batch.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      oa.batches.create({
        input_file_id: f.id,
        endpoint: "/v1/chat/completions",
        completion_window: "forever" as "24h",
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect((await waitFinal(oa, batch.id)).request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
  }, 120_000);
});
