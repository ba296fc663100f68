// Native jobs end to end: WASM work, escrow and settlement, idempotency, cancellation, paging.
import { request } from "node:http";
import { loadBuiltinModule } from "@tessera/runtimes";
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (data: string) => Buffer.from(data, "base64").toString("utf8");

describe("native jobs", () => {
  const net = new TestNetwork();
  let client: TesseraClient;
  let consumerId: string;
  let apiKey: string;
  let reverse: string;
  let primes: string;

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ region: "eu-west", price: 40 });
    await net.startProvider({ region: "us-east", price: 60 });
    await net.waitForProviders(2);
    const c = await net.consumer();
    client = c.client;
    consumerId = c.id;
    apiKey = c.apiKey;
    reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
  }, 120_000);
  afterAll(() => net.stop());

  it("runs a wasm job, signs it, and settles exactly its cost", async () => {
    const before = await client.account();
    const job = await client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64("hello") } });
    expect(job.status).toBe("queued");
    const done = await client.waitForJob(job.id);
    expect(done.status).toBe("completed");
    expect(text((done.output as { data: string }).data)).toBe("olleh");
    expect(done.signature).toBeTruthy();
    expect(done.trail?.[0]?.outcome).toBe("completed");
    const after = await client.account();
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(BigInt(done.cost!));
    expect(BigInt(after.escrow)).toBe(0n);
    expect(BigInt(after.spent) - BigInt(before.spent)).toBe(BigInt(done.cost!));
    expect((await net.admin.ledger()).ok).toBe(true);
  });

  it("places jobs by region and price ceiling", async () => {
    const providers = (await client.providers()).data;
    const usEast = providers.find((p) => p.region === "us-east")!;
    const job = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("x") },
      constraints: { regions: ["us-east"] },
    });
    expect((await client.waitForJob(job.id)).provider).toBe(usEast.id);
    const cheap = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("y") },
      constraints: { maxPricePerUnit: 45 },
    });
    const cheapDone = await client.waitForJob(cheap.id);
    expect(providers.find((p) => p.id === cheapDone.provider)?.pricePerUnit).toBe(40);
  });

  it("returns the same job for a retried submit with the same idempotency key, charged once", async () => {
    const body = { runtime: "wasm" as const, module: reverse, input: { data: b64("once") }, idempotencyKey: "k-1" };
    const [a, b] = await Promise.all([client.submitJob(body), client.submitJob(body)]);
    expect(a.id).toBe(b.id);
    const c = await client.submitJob(body);
    expect(c.id).toBe(a.id);
    await client.waitForJob(a.id);
    const all = await client.listJobs({ limit: 500 });
    expect(all.data.filter((j) => j.idempotencyKey === "k-1")).toHaveLength(1);
    await expect(client.submitJob({ ...body, input: { data: b64("different") } })).rejects.toMatchObject({
      status: 409,
    });
  });

  it("cancels a running job and refunds its escrow", async () => {
    const before = await client.account();
    const job = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: b64("400000000") },
      limits: { timeoutMs: 120_000, maxMemoryMb: 64 },
    });
    await until("job running", async () => (await client.getJob(job.id)).status === "running");
    const cancelled = await client.cancelJob(job.id);
    expect(cancelled.status).toBe("cancelled");
    const after = await client.account();
    expect(after.balance).toBe(before.balance);
    expect(after.escrow).toBe(before.escrow);
    expect((await net.admin.ledger()).ok).toBe(true);
  });

  it("pages through jobs newest first", async () => {
    for (let i = 0; i < 5; i++)
      await client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(`p${i}`) } });
    const first = await client.listJobs({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const second = await client.listJobs({ limit: 2, cursor: first.nextCursor! });
    expect(second.data[0]!.createdAt).toBeLessThanOrEqual(first.data[1]!.createdAt);
    expect(new Set([...first.data, ...second.data].map((j) => j.id)).size).toBe(4);
    // a cursor must be one of the caller's jobs: a well-formed id of none is a mistake, not a page
    await expect(client.listJobs({ cursor: `job_${"0".repeat(28)}` })).rejects.toMatchObject({
      status: 400,
      param: "cursor",
    });
  });

  it("reads numbers in query strings and headers exactly as sent", async () => {
    // raw headers as sent (repeated names stay repeated); answers the status and the error's param
    const send = (method: string, path: string, headers: string[] = [], body?: string) =>
      new Promise<{ status: number; body: { status?: string; error?: { param: string | null } } }>(
        (resolve, reject) => {
          const req = request(`${net.url}${path}`, {
            method,
            headers: ["Host", `127.0.0.1:${net.port}`, "Authorization", `Bearer ${apiKey}`, ...headers],
          });
          req.on("response", (res) => {
            let text = "";
            res.on("data", (d) => {
              text += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          });
          req.on("error", reject);
          req.end(body);
        },
      );
    const job = await client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64("q") } });
    for (const wait of ["0x10", "1e3", "", " 5"])
      expect(await send("GET", `/v1/jobs/${job.id}?wait=${encodeURIComponent(wait)}`)).toMatchObject({
        status: 400,
        body: { error: { param: "wait" } },
      });
    expect((await send("GET", `/v1/jobs?limit=0x10`)).body.error?.param).toBe("limit");

    // two Idempotency-Key headers are not one key "a, b": refused, and nothing is submitted
    const before = (await client.listJobs({ limit: 500 })).data.length;
    const body = JSON.stringify({ runtime: "wasm", module: reverse, input: { data: b64("two keys") } });
    const twice = ["Content-Type", "application/json", "Idempotency-Key", "a", "Idempotency-Key", "b"];
    expect(await send("POST", "/v1/jobs", twice, body)).toMatchObject({
      status: 400,
      body: { error: { param: "Idempotency-Key" } },
    });
    // a header key beside a different body key: which would a retry match? Refused, nothing submitted
    const keyed = JSON.stringify({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("two") },
      idempotencyKey: "x",
    });
    expect(
      await send("POST", "/v1/jobs", ["Content-Type", "application/json", "Idempotency-Key", "y"], keyed),
    ).toMatchObject({ status: 400, body: { error: { param: "idempotencyKey" } } });
    expect((await client.listJobs({ limit: 500 })).data.length).toBe(before);
    // and a money amount that is not digits is a 400, not a server error
    for (const amount of ["1e3", "1.5", "ten"]) {
      const r = await fetch(`${net.url}/v1/admin/deposits`, {
        method: "POST",
        headers: { authorization: `Bearer ${net.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ consumerId, amount }),
      });
      expect([r.status, ((await r.json()) as { error: { param: string } }).error.param]).toEqual([400, "amount"]);
    }

    // a DELETE labelled JSON with no body is an ordinary cancel
    const slow = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: b64("400000000") },
      limits: { timeoutMs: 120_000, maxMemoryMb: 64 },
    });
    expect(await send("DELETE", `/v1/jobs/${slow.id}`, ["Content-Type", "application/json"])).toMatchObject({
      status: 200,
      body: { status: "cancelled" },
    });
    // an empty deposit id is not an id
    const deposit = await fetch(`${net.url}/v1/admin/deposits`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ consumerId, amount: "1", id: "" }),
    });
    expect(deposit.status).toBe(400);
  });

  it("ends a long-poll whose client went away, instead of holding it for the rest of its wait", async () => {
    const stuck = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("never placed") },
      constraints: { regions: ["nowhere"], maxPricePerUnit: 100 },
    });
    // each waiting poll holds a timer in the gateway (Node's own count, exported with the metrics)
    const timers = async () => {
      const text = await (await fetch(`${net.url}/metrics`)).text();
      expect(text).toMatch(/nodejs_active_resources_total/);
      return Number(/nodejs_active_resources\{type="Timeout"\} (\d+)/.exec(text)?.[1] ?? 0); // none: no line
    };
    const before = await timers();
    const polls = Array.from({ length: 200 }, () => {
      const req = request(`${net.url}/v1/jobs/${stuck.id}?wait=300000`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      req.on("error", () => {}); // destroyed below
      req.end();
      return req;
    });
    await until("the gateway to hold the polls", async () => (await timers()) >= before + 150);
    for (const req of polls) req.destroy();
    await until("the abandoned polls to end", async () => (await timers()) < before + 50, 30_000);
    await client.cancelJob(stuck.id);
  });

  it("keeps consumers apart", async () => {
    const other = await net.consumer(10_000_000_000n);
    const mine = await client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64("private") } });
    await expect(other.client.getJob(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.client.cancelJob(mine.id)).rejects.toMatchObject({ status: 404 });
  });
});
