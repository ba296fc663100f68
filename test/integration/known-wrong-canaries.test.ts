// Known-wrong canary audits made of real results, end to end with real processes: a verifier that
// checks nothing but what the public API tells (is the audit's provider in /v1/providers, does the
// explorer know its job) told the old known-wrong canaries (signed by a throw-away identity, under a
// job id never submitted) from real audits, failed those and passed everything else unchecked. A
// known-wrong canary now is a real provider's genuine result of a job that settled undrawn, sent
// under its own spec with another job's prompt: that verifier passes it and is excluded. So is one
// that checks greedy results but judges sampled ones by those lookups (sampled results are replayed
// too). Honest verifiers (other threads, other batch size) never are, and the provider whose result
// was replayed is judged on nothing.
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { honestRound, TINY } from "../helpers/verification.js";

interface NodeView {
  id: string;
  region: string;
  excluded: boolean;
  slashed: string;
  verifierStrikes: number;
  auditsFailed: number;
  canariesPassed: number;
  canariesFailed: number;
  wrongCanariesFailed: number;
}
interface AuditRow {
  id: string;
  jobId: string;
  providerId: string;
  status: string;
  kind: string;
}

describe("known-wrong canary audits of real results", () => {
  const net = new TestNetwork();
  let client: TesseraClient;
  let lookupLazy = "";

  const nodes = async (): Promise<NodeView[]> =>
    ((await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as { data: NodeView[] }).data;
  const byRegion = async (region: string) => (await nodes()).find((n) => n.region === region);
  const audits = async (): Promise<AuditRow[]> =>
    ((await (await fetch(`${net.url}/v1/audits?limit=200`)).json()) as { data: AuditRow[] }).data;
  /** what the public job page shows of a job's params */
  const paramsOf = async (jobId: string) =>
    (
      (await (await fetch(`${net.url}/v1/explorer/jobs/${jobId}`)).json()) as {
        job: { spec: { params: { temperature: number } } };
      }
    ).job.spec.params;
  /** excluded for passing known-wrong results */
  const expectCaught = async (id: string) => {
    const n = (await nodes()).find((x) => x.id === id);
    expect(n).toMatchObject({ excluded: true });
    expect(n?.canariesFailed).toBeGreaterThanOrEqual(1);
  };
  const untouched = async () => {
    for (const region of ["verifier-a", "verifier-b"]) {
      const v = await byRegion(region);
      expect(v, region).toMatchObject({ excluded: false, slashed: "0", canariesFailed: 0, verifierStrikes: 0 });
    }
    expect(await byRegion("honest")).toMatchObject({ excluded: false, slashed: "0", auditsFailed: 0 });
    const ledger = await net.admin.ledger();
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
  };

  beforeAll(async () => {
    await net.startGateway([
      // half the results are audited: the other half settle undrawn, what known-wrong canaries are made of
      "--audit-new-rate",
      "0.5",
      "--audit-floor",
      "0.5",
      "--canary-rate",
      "0",
      "--verifier-canary-rate",
      "1",
      "--fee-bps",
      "5000",
    ]);
    await net.startProvider({ region: "verifier-a", extra: ["--verify", "--operator", "op-a", "--threads", "2"] });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b", "--batch-size", "7"] });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h", "--threads", "1"] });
    lookupLazy = await net.startAdversary("lookup-lazy-verifier", { operator: "op-l", verify: true });
    await net.waitForProviders(4);
    ({ client } = await net.consumer());
  }, 120_000);
  afterAll(() => net.stop());

  it("excludes a verifier that fails only what public lookups tell from a real audit; honest verifiers and the replayed provider are untouched", async () => {
    let round = 0;
    await until(
      "the lookup-lazy verifier excluded",
      async () => {
        await honestRound(client, round++);
        const l = (await nodes()).find((n) => n.id === lookupLazy);
        return l?.excluded ? true : undefined;
      },
      240_000,
    );
    // at least one: a round settles several jobs at once, so a second replay may reach it before the first's verdict
    await expectCaught(lookupLazy);
    // it was caught on a real job's result: the public audit record shows a void canary audit of it
    const honest = await byRegion("honest");
    const voided = (await audits()).filter((a) => a.status === "void");
    expect(voided.length).toBeGreaterThan(0);
    for (const a of voided) {
      expect(a).toMatchObject({ kind: "canary", providerId: honest?.id });
      const page = await fetch(`${net.url}/v1/explorer/jobs/${a.jobId}`);
      expect(page.status).toBe(200);
    }
    await untouched();
  }, 300_000);

  it("excludes a verifier that checks greedy results but passes sampled ones on lookups: a sampled result is replayed under a greedy job's prompt", async () => {
    const sampledLazy = await net.startAdversary("sampled-lookup-lazy-verifier", { operator: "op-s", verify: true });
    await until(
      "the sampled-lazy verifier online",
      async () => (await nodes()).some((n) => n.id === sampledLazy) || undefined,
    );
    let round = 0;
    await until(
      "the sampled-lazy verifier excluded",
      async () => {
        // sampled jobs (each its own seed), with greedy ones beside them for the known answers
        const jobs = [];
        for (const [i, p] of ["The world is", "Once upon a time", "water", "a cat"].entries())
          jobs.push(
            await client.submitJob({
              runtime: "llm",
              model: TINY,
              input: { prompt: `${p} ${round}` },
              params: { temperature: 0.8, topK: 40, seed: round * 10 + i },
              limits: { maxOutputTokens: 16 },
              constraints: { regions: ["honest"] },
            }),
          );
        for (const j of jobs) expect((await client.waitForJob(j.id)).status).toBe("completed");
        if (round % 2 === 0) await honestRound(client, 1000 + round);
        round++;
        return (await nodes()).find((n) => n.id === sampledLazy)?.excluded || undefined;
      },
      240_000,
    );
    await expectCaught(sampledLazy);
    // caught on a sampled job's real result
    const sampledVoid = [];
    for (const a of (await audits()).filter((x) => x.status === "void"))
      if ((await paramsOf(a.jobId)).temperature > 0) sampledVoid.push(a);
    expect(sampledVoid.length).toBeGreaterThan(0);
    await untouched();
  }, 300_000);
});
