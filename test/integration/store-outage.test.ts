// A gateway whose PostgreSQL goes away: its health check says so (503) for a load balancer to act
// on, and a request that needs the store answers 503 store_unavailable, which clients retry,
// rather than a 500 that reads as a bug.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgServer, startPgServer } from "../../packages/store/test/pg-server.js";
import { TestNetwork } from "../helpers/network.js";

describe.skipIf(process.env.TESSERA_SKIP_PG === "1")("store outage", () => {
  const net = new TestNetwork();
  let pg: PgServer;
  let apiKey: string;

  beforeAll(async () => {
    pg = await startPgServer();
    await net.startGateway(["--db", await pg.createDatabase()]);
    apiKey = (await net.consumer()).apiKey;
  }, 120_000);
  afterAll(async () => {
    await net.stop();
    await pg.stop();
  });

  it("answers 503 from /healthz and from routes that read the store while PostgreSQL is down", async () => {
    const health = await fetch(`${net.url}/healthz`);
    expect(health.status).toBe(200);
    await pg.stop();
    const down = await fetch(`${net.url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, store: "unavailable" });
    // past the key cache (5 s): the key itself is read from the store
    await new Promise((r) => setTimeout(r, 5_500));
    const jobs = await fetch(`${net.url}/v1/jobs`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(jobs.status).toBe(503);
    expect(await jobs.json()).toMatchObject({ error: { code: "store_unavailable" } });
  }, 60_000);
});
