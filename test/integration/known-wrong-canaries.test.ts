// Known-wrong canary audits made of real results, end to end with real processes: a verifier that
// checks nothing but what the public API tells (is the audit's provider in /v1/providers, does the
// explorer know its job) told the old known-wrong canaries (signed by a throw-away identity, under a
// job id never submitted) from real audits, failed those and passed everything else unchecked. A
// known-wrong canary now is a real provider's genuine result of a job that settled undrawn, sent
// under another job's spec: that verifier passes it and is excluded. Honest verifiers (other threads,
// other batch size) never are, and the provider whose result was replayed is judged on nothing.
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { honestRound } from "../helpers/verification.js";

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
    expect((await nodes()).find((n) => n.id === lookupLazy)).toMatchObject({ excluded: true, canariesFailed: 1 });
    // it was caught on a real job's result: the public audit record shows a void canary audit of it
    const audits = ((await (await fetch(`${net.url}/v1/audits?limit=200`)).json()) as { data: AuditRow[] }).data;
    const honest = await byRegion("honest");
    const voided = audits.filter((a) => a.status === "void");
    expect(voided.length).toBeGreaterThan(0);
    for (const a of voided) {
      expect(a).toMatchObject({ kind: "canary", providerId: honest?.id });
      const page = await fetch(`${net.url}/v1/explorer/jobs/${a.jobId}`);
      expect(page.status).toBe(200);
    }
    for (const region of ["verifier-a", "verifier-b"]) {
      const v = await byRegion(region);
      expect(v, region).toMatchObject({ excluded: false, slashed: "0", canariesFailed: 0, verifierStrikes: 0 });
    }
    expect(honest).toMatchObject({ excluded: false, slashed: "0", auditsFailed: 0 });
    const ledger = await net.admin.ledger();
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
  }, 300_000);
});
