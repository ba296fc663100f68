// Canaries end to end with real processes: a gateway that audits every result and mixes canary
// jobs (known answers) into providers' work and canary audits (known-wrong or known-good results)
// into verifiers' work. A lazy verifier (passes everything) and a griefing verifier (fails
// everything) must end excluded; the honest provider and honest verifiers never; the ledger,
// which pays canaries out of protocol fees, stays whole.
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";
import { canaryReads, honestRound, TINY } from "../helpers/verification.js";

interface NodeView {
  id: string;
  region: string;
  excluded: boolean;
  slashed: string;
  verifierStrikes: number;
  canariesPassed: number;
  canariesFailed: number;
}

describe("canaries: known answers for providers, known-wrong results for verifiers", () => {
  const net = new TestNetwork();
  let client: TesseraClient;
  let consumerId = "";
  let apiKey = "";
  let lazy = "";
  let griefing = "";

  const nodes = async (): Promise<NodeView[]> =>
    ((await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as { data: NodeView[] }).data;
  const byId = async (id: string) => (await nodes()).find((n) => n.id === id);
  const byRegion = async (region: string) => (await nodes()).find((n) => n.region === region);

  beforeAll(async () => {
    await net.startGateway([
      "--audit-new-rate",
      "1",
      "--audit-floor",
      "1",
      "--canary-rate",
      "1",
      "--verifier-canary-rate",
      "1",
      "--canary-delay-ms",
      "100",
      "--fee-bps",
      "5000",
    ]);
    await net.startProvider({ region: "verifier-a", extra: ["--verify", "--operator", "op-a", "--threads", "2"] });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b", "--batch-size", "7"] });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h", "--threads", "1"] });
    lazy = await net.startAdversary("lazy-verifier", { operator: "op-l", verify: true });
    griefing = await net.startAdversary("griefing-verifier", { operator: "op-g", verify: true });
    await net.waitForProviders(5);
    ({ client, id: consumerId, apiKey } = await net.consumer());
  }, 120_000);
  afterAll(() => net.stop());

  it("rejects canary rates outside 0..1 at start-up, naming the setting", async () => {
    const gw = spawnTessera("bad-gateway", ["gateway", "--port", "0", "--db", ":memory:", "--canary-rate", "1.5"]);
    expect(await gw.exited).not.toBe(0);
    expect(gw.output()).toMatch(/canaries\.providerRate/);
  }, 30_000);

  it("excludes the lazy and the griefing verifier, never the honest ones, and honest providers pass canaries", async () => {
    let round = 0;
    await until(
      "lazy and griefing verifiers excluded",
      async () => {
        await honestRound(client, round++);
        const [l, g] = [await byId(lazy), await byId(griefing)];
        // and some canary judged right: a griefer sent a known-good canary after each fail can be
        // out before the first canary job or audit has come back passed
        const passed = (await nodes()).reduce((s, n) => s + n.canariesPassed, 0);
        return l?.excluded && g?.excluded && passed > 0 ? true : undefined;
      },
      240_000,
    );
    const lazyView = await byId(lazy);
    expect(lazyView?.canariesFailed).toBeGreaterThanOrEqual(1);
    for (const region of ["verifier-a", "verifier-b", "honest"]) {
      const v = await byRegion(region);
      expect(v, region).toMatchObject({ excluded: false, slashed: "0", canariesFailed: 0 });
    }
    // canary jobs ran somewhere and gave the known answers; honest verifiers judged canary audits right
    const all = await nodes();
    expect(all.reduce((s, n) => s + n.canariesPassed, 0)).toBeGreaterThan(0);
    const ledger = await net.admin.ledger();
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
  }, 300_000);

  it("shows a canary in the public explorer as it shows any job: no consumer, the same class and deadline span", async () => {
    type Posting = { id: number; eventId: string; kind: string; jobId: string | null; from: string; to: string };
    type Detail = {
      job: { consumer: string | null; createdAt: number; deadlineAt: number; class: string };
      postings: Posting[];
    };
    const get = async (path: string, key?: string) => {
      const res = await fetch(`${net.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // the operator sees where canaries are funded from and which consumer submits them
    const operator = canaryReads(net);
    await until("a canary job submitted", async () => {
      // canaries are drawn as real jobs settle: one more each time round
      const j = await client.submitJob({
        runtime: "llm",
        model: TINY,
        input: { prompt: `one more ${Date.now()}` },
        params: { temperature: 0 },
        limits: { maxOutputTokens: 24 },
        constraints: { regions: ["honest"] },
      });
      await client.waitForJob(j.id);
      return (await operator.jobs()).length > 0 ? true : undefined;
    });
    const canaryConsumer = (await operator.canaryConsumer()) as string;
    expect(canaryConsumer).toMatch(/^c_/);
    const funded = (
      await get(`/v1/explorer/ledger/postings?account=consumer:${canaryConsumer}:available`, net.adminKey)
    ).body.data as Posting[];
    const fundings = funded.filter((p) => p.eventId.startsWith("canary:fund:"));
    expect(fundings.length).toBeGreaterThan(0);
    expect(fundings.every((p) => p.from === "protocol:fees")).toBe(true);
    const canaries = (await get(`/v1/explorer/jobs?consumer=${canaryConsumer}&limit=20`, net.adminKey)).body
      .data as Array<{ id: string; consumer: string }>;
    expect(canaries[0]?.consumer).toBe(canaryConsumer);

    // the public sees neither that consumer nor its accounts, and cannot ask for them
    expect((await get(`/v1/explorer/jobs?consumer=${canaryConsumer}`)).status).toBe(403);
    expect((await get(`/v1/explorer/ledger/postings?account=consumer:${canaryConsumer}:available`)).status).toBe(403);
    const accounts = (await get("/v1/explorer/ledger/accounts?limit=200")).body.data as Array<{ name: string }>;
    expect(accounts.length).toBeGreaterThan(0);
    expect(accounts.some((a) => a.name.startsWith("consumer:"))).toBe(false);
    const canary = (await get(`/v1/explorer/jobs/${canaries[0]?.id}`)).body as unknown as Detail;
    expect(canary.job.consumer).toBeNull();
    for (const p of canary.postings)
      for (const a of [p.from, p.to]) if (a.startsWith("consumer:")) expect(a).toMatch(/^consumer:\*:/);
    const publicList = (await get("/v1/explorer/jobs?limit=50")).body.data as Array<{ consumer: string | null }>;
    expect(publicList.every((j) => j.consumer === null)).toBe(true);

    // a real job of this consumer: the owner sees itself; its deadline span and class are the canary's
    const mine = (await get(`/v1/explorer/jobs?consumer=${consumerId}&limit=1`, apiKey)).body.data as Array<{
      id: string;
      consumer: string;
    }>;
    expect(mine[0]?.consumer).toBe(consumerId);
    const real = (await get(`/v1/explorer/jobs/${mine[0]?.id}`)).body as unknown as Detail;
    expect(real.job.consumer).toBeNull();
    expect(canary.job.deadlineAt - canary.job.createdAt).toBe(real.job.deadlineAt - real.job.createdAt);
    expect(canary.job.class).toBe(real.job.class);
  });

  it("shows reputation in /v1/providers and keeps exclusions and records across a gateway restart", async () => {
    type Listed = { id: string; region: string; reputation: number; provenThroughput: number | null };
    const listed = async (): Promise<Listed[]> =>
      ((await (await fetch(`${net.url}/v1/providers`)).json()) as { data: Listed[] }).data;
    const before = await nodes();
    const honestBefore = before.find((n) => n.region === "honest");
    let providers = await listed();
    expect(providers.find((p) => p.id === lazy)?.reputation).toBe(0);
    expect(providers.find((p) => p.region === "honest")?.reputation).toBeGreaterThan(0.5);
    await new Promise((r) => setTimeout(r, 1200)); // one records tick
    await net.gateway?.kill("SIGTERM");
    await net.startGateway(["--audit-new-rate", "1", "--audit-floor", "1", "--fee-bps", "5000"]);
    await net.waitForProviders(5);
    const after = await until("records restored", async () => {
      const l = await byId(lazy);
      return l?.excluded ? l : undefined;
    });
    expect(after.canariesFailed).toBeGreaterThanOrEqual((before.find((n) => n.id === lazy) as NodeView).canariesFailed);
    expect((await byId(griefing))?.excluded).toBe(true);
    expect((await byRegion("honest"))?.canariesFailed).toBe(0);
    expect((await byRegion("honest"))?.excluded).toBe(false);
    // not reset to zero (audits still in flight at the snapshot may have been decided since)
    expect(((await byRegion("honest")) as unknown as { auditsPassed: number }).auditsPassed).toBeGreaterThanOrEqual(
      (honestBefore as unknown as { auditsPassed: number }).auditsPassed,
    );
    providers = await listed();
    expect(providers.find((p) => p.id === lazy)?.reputation).toBe(0);
    // every node proved its capacity (Freivalds-checked product) after the restart too
    const honest = await until("honest capacity proven", async () => {
      const h = (await listed()).find((p) => p.region === "honest");
      return h?.provenThroughput ? h : undefined;
    });
    expect(honest.provenThroughput).toBeGreaterThan(0);
  }, 180_000);

  it("does not schedule a node that cannot prove its capacity, and lowers its reputation", async () => {
    const faker = await net.startAdversary("fake-capacity", { operator: "op-f" });
    const view = await until("capacity failure recorded", async () => {
      const v = (await byId(faker)) as (NodeView & { capacityFailures: number; reputation: number }) | undefined;
      return v && v.capacityFailures >= 1 ? v : undefined;
    });
    const region = view.region;
    const job = await client.submitJob({
      runtime: "llm",
      model: TINY,
      input: { prompt: "hello" },
      limits: { maxOutputTokens: 8 },
      constraints: { regions: [region] },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.getJob(job.id)).status).toBe("queued");
    const honest = (await byRegion("honest")) as unknown as { reputation: number };
    expect(view.reputation).toBeLessThan(honest.reputation);
    await client.cancelJob(job.id);
  }, 60_000);
});
