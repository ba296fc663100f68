// Native batches (WASM job lines on /v1/jobs) through the `tessera batch` CLI and the SDK's
// progress events, against real gateway and provider processes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBuiltinModule } from "@tessera/runtimes";
import { BatchClient, type BatchProgress, type BatchView } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";

describe("native batches through the CLI and SDK", () => {
  const net = new TestNetwork();
  const dir = mkdtempSync(join(tmpdir(), "tessera-batch-cli-"));

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ concurrency: 2, models: [] });
    await net.startProvider({ concurrency: 2, models: [] });
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(() => net.stop());

  async function wasmInput(n: number): Promise<{ path: string; words: string[] }> {
    const { client } = await net.consumer();
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const words = Array.from({ length: n }, (_, i) => `word-${i}`);
    const lines = words.map((w, i) =>
      JSON.stringify({
        custom_id: `w${i}`,
        method: "POST",
        url: "/v1/jobs",
        body: { runtime: "wasm", module: reverse, input: { data: Buffer.from(w).toString("base64") } },
      }),
    );
    lines.splice(
      5,
      0,
      JSON.stringify({ custom_id: "broken", method: "POST", url: "/v1/jobs", body: { runtime: "wasm" } }),
    );
    const path = join(dir, `in-${n}.jsonl`);
    writeFileSync(path, `${lines.join("\n")}\n`);
    return { path, words };
  }

  it("Ctrl-C on batch submit --wait stops following, not the batch, and names it", async () => {
    const { apiKey } = await net.consumer();
    const { client } = await net.consumer();
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    // no provider is in this region: the lines wait in the queue
    const line = (i: number) =>
      JSON.stringify({
        custom_id: `m${i}`,
        method: "POST",
        url: "/v1/jobs",
        body: { runtime: "wasm", module: reverse, input: { data: "eA==" }, constraints: { regions: ["mars"] } },
      });
    const path = join(dir, "mars.jsonl");
    writeFileSync(path, `${[line(0), line(1)].join("\n")}\n`);
    const flags = ["--gateway", net.url, "--api-key", apiKey];
    const p = spawnTessera("batch", ["batch", "submit", path, "--endpoint", "/v1/jobs", "--wait", "--json", ...flags]);
    const id = await until("the batch id", () => /batch (batch_[0-9a-f]+) started/.exec(p.output())?.[1], 30_000);
    p.child.kill("SIGINT");
    expect(await p.exited).toBe(130);
    expect(p.output()).toContain(`'tessera batch cancel ${id}' cancels it`);
    const b = new BatchClient({ baseUrl: net.url, apiKey });
    expect((await b.get(id)).status).toBe("in_progress");
    // its files do not exist yet: said, not "wrote nothing"
    const early = spawnTessera("download", ["batch", "download", id, "--out", join(dir, "early.jsonl"), ...flags]);
    expect(await early.exited).toBe(1);
    expect(early.output()).toContain(`batch ${id} is in_progress; its files are written when it ends`);
    await b.cancel(id);
  });

  it("tessera batch submit --wait runs WASM job lines and writes the output and error files", async () => {
    const { apiKey } = await net.consumer();
    const { path, words } = await wasmInput(60);
    const out = join(dir, "out.jsonl");
    const p = spawnTessera("batch", [
      "batch",
      "submit",
      path,
      "--endpoint",
      "/v1/jobs",
      "--wait",
      "--out",
      out,
      "--json",
      "--gateway",
      net.url,
      "--api-key",
      apiKey,
    ]);
    expect(await p.exited, p.output()).toBe(0);
    const report = JSON.parse(p.output().slice(p.output().indexOf("{"))) as { batch: BatchView; files: string[] };
    expect(report.batch.status).toBe("completed");
    expect(report.batch.request_counts).toEqual({ total: 61, completed: 60, failed: 1 });
    const lines = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(60);
    for (const l of lines) {
      const i = Number(l.custom_id.slice(1));
      expect(Buffer.from(l.response.body.output.data, "base64").toString()).toBe(
        [...(words[i] ?? "")].reverse().join(""),
      );
    }
    const errors = readFileSync(out.replace(/\.jsonl$/, ".errors.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => e.custom_id)).toEqual(["broken"]);

    const status = spawnTessera("status", [
      "batch",
      "status",
      report.batch.id,
      "--gateway",
      net.url,
      "--api-key",
      apiKey,
    ]);
    expect(await status.exited).toBe(0);
    expect(status.output()).toMatch(/completed\s+60 done, 1 failed of 61/);
    const again = join(dir, "again.jsonl");
    const dl = spawnTessera("download", [
      "batch",
      "download",
      report.batch.id,
      "--out",
      again,
      "--gateway",
      net.url,
      "--api-key",
      apiKey,
    ]);
    expect(await dl.exited).toBe(0);
    expect(readFileSync(again, "utf8")).toBe(readFileSync(out, "utf8"));
  }, 180_000);

  it("the SDK streams the upload and emits progress events until the batch is done", async () => {
    const { apiKey, client } = await net.consumer();
    const { path } = await wasmInput(200);
    const batches = new BatchClient({ baseUrl: net.url, apiKey });
    const file = await batches.upload(path);
    expect(file.bytes).toBe(readFileSync(path).length);
    const b = await batches.create(file.id, "/v1/jobs");
    const events: BatchProgress[] = [];
    const done = await new Promise<BatchView>((resolve, reject) => {
      const w = batches.watch(b.id, { intervalMs: 50 });
      w.on("progress", (p: BatchProgress) => events.push(p));
      w.on("done", resolve);
      w.on("error", reject);
    });
    expect(done.status).toBe("completed");
    expect(events.length).toBeGreaterThan(0);
    const last = events.at(-1);
    expect(last?.done).toBe(200);
    expect(last?.failed).toBe(1);
    expect(last?.total).toBe(201);
    for (let i = 1; i < events.length; i++) expect((events[i]?.done ?? 0) >= (events[i - 1]?.done ?? 0)).toBe(true);
    expect(last?.spent).toBe(BigInt((await client.account()).spent));
  }, 180_000);

  it("tessera batch list pages newest first with the --after a listing prints", async () => {
    const { apiKey } = await net.consumer();
    const batches = new BatchClient({ baseUrl: net.url, apiKey });
    const { path } = await wasmInput(2);
    const file = await batches.upload(path);
    for (let i = 0; i < 3; i++) await batches.create(file.id, "/v1/jobs");
    // the gateway's order (two batches made in one millisecond are ordered by id, not by creation)
    const ids = (await batches.list(100)).map((b) => b.id);
    expect(ids).toHaveLength(3);
    const list = async (...args: string[]) => {
      const p = spawnTessera("list", ["batch", "list", ...args, "--gateway", net.url, "--api-key", apiKey]);
      expect(await p.exited, p.output()).toBe(0);
      return p.output();
    };
    const first = await list("--limit", "2");
    expect(first).toContain(ids[0]);
    expect(first).toContain(ids[1]);
    expect(first).not.toContain(ids[2]);
    const hint = /more: tessera batch list --limit 2 --after (\S+)/.exec(first);
    expect(hint?.[1], first).toBe(ids[1]);
    const rest = JSON.parse(await list("--limit", "2", "--after", hint?.[1] as string, "--json")) as {
      data: BatchView[];
      has_more: boolean;
    };
    expect({ ids: rest.data.map((b) => b.id), more: rest.has_more }).toEqual({ ids: [ids[2]], more: false });
  }, 120_000);
});
