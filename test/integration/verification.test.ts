// Verification end to end with real processes: a gateway that audits every result, honest
// verifiers running other thread counts and batch sizes than the provider, and adversarial
// providers (test/helpers/adversary.ts) that must each end slashed and excluded while the honest
// provider is never slashed and the ledger invariants hold throughout.
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { stakedVerifiers, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000_000_000n;
const verifiers = stakedVerifiers(MIN_STAKE);
const TINY = "96389be0649aa1e54654fb5a2be80e0de9001a4b0e1003598cf93a10efee6b5b";

interface NodeView {
  id: string;
  region: string;
  stake: string;
  excluded: boolean;
  slashed: string;
  auditsPassed: number;
  auditsFailed: number;
  verifierStrikes: number;
}
interface AuditView {
  status: string;
  verdicts: Array<{ verifierId: string; pass: boolean; report: { metrics: Record<string, number> } }>;
}

describe("verification: stake, audits, verdicts and slashing", () => {
  const net = new TestNetwork();
  let client: TesseraClient;

  const nodes = async (): Promise<NodeView[]> =>
    ((await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as { data: NodeView[] }).data;
  const node = async (region: string) => (await nodes()).find((n) => n.region === region);
  // the audits of a job's work: a void one is a known-wrong verifier canary made of its result (see
  // verificationReads in test/helpers/verification.ts)
  const audits = async (jobId: string): Promise<AuditView[]> =>
    ((await (await fetch(`${net.url}/v1/jobs/${jobId}/audits`)).json()) as { data: AuditView[] }).data.filter(
      (a) => a.status !== "void",
    );
  const stake = async (providerId: string, amount = MIN_STAKE) => {
    const r = await fetch(`${net.url}/v1/admin/stake`, {
      method: "POST",
      headers: { authorization: `Bearer ${net.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ providerId, amount: amount.toString() }),
    });
    expect(r.status).toBe(200);
  };
  const submit = (region: string, prompt: string, params: Record<string, number> = { temperature: 0 }) =>
    client.submitJob({
      runtime: "llm",
      model: TINY,
      input: { prompt },
      params,
      limits: { maxOutputTokens: 32 },
      constraints: { regions: [region] },
    });

  beforeAll(async () => {
    await net.startGateway([...verifiers.flags, "--audit-new-rate", "1", "--audit-floor", "1"]);
    // two honest verifiers of their own operators, with thread counts and batch sizes unlike the provider's
    await net.startProvider({
      region: "verifier-a",
      extra: ["--verify", "--operator", "op-a", "--threads", "2", "--batch-size", "7"],
    });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b", "--batch-size", "64"] });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h", "--threads", "1"] });
    await net.waitForProviders(3);
    client = (await net.consumer()).client;
  }, 120_000);
  afterAll(() => net.stop());

  it("schedules a provider only once it holds the minimum stake, and audits with verifiers only once they hold theirs", async () => {
    const honest = await until("honest node listed", () => node("honest"));
    const job = await submit("honest", "The world is");
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.getJob(job.id)).status).toBe("queued");
    await stake(honest.id);
    expect((await client.waitForJob(job.id)).status).toBe("completed");
    // its audit waits: neither verifier holds --verifier-min-stake yet
    await until("audit drawn", async () => (await audits(job.id)).length > 0);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await audits(job.id))[0]).toMatchObject({ status: "pending", verdicts: [] });
    await verifiers.stake(verificationReads(net), 2);
    const [a] = await until("audit decided once the verifiers are staked", async () => {
      const list = await audits(job.id);
      return list[0]?.status === "passed" ? list : undefined;
    });
    // decided on the first pass; a share of passes (--pass-recheck-rate, 0.1) goes to the other
    // verifier all the same, whose verdict may be in already
    expect(a?.verdicts.length).toBeGreaterThanOrEqual(1);
    expect(a?.verdicts.every((v) => v.pass)).toBe(true);
  }, 60_000);

  it("audits every honest result with verifiers on other threads and batch sizes and never slashes", async () => {
    const jobs = [];
    for (const [i, p] of ["Once upon a time", "water", "Tessera network", "fire and ice"].entries()) {
      jobs.push(await submit("honest", p));
      jobs.push(await submit("honest", p, { temperature: 0.9, topK: 40, seed: i }));
    }
    for (const j of jobs) expect((await client.waitForJob(j.id)).status).toBe("completed");
    for (const j of jobs) {
      const [a] = await until(`audit of ${j.id} decided`, async () => {
        const list = await audits(j.id);
        return list[0]?.status !== "pending" && list.length > 0 ? list : undefined;
      });
      expect(a?.status).toBe("passed");
      expect(a?.verdicts[0]?.pass).toBe(true);
      expect(a?.verdicts[0]?.report.metrics.tokensChecked).toBeGreaterThan(0);
      expect(a?.verdicts[0]?.report.metrics.maxLogprobDiff).toBeLessThan(0.1);
    }
    const honest = await node("honest");
    expect(honest).toMatchObject({ excluded: false, slashed: "0", auditsFailed: 0 });
    expect(honest?.auditsPassed).toBeGreaterThanOrEqual(jobs.length);
  }, 180_000);

  it("slashes and excludes every cheating strategy, refunding the consumer and keeping the ledger whole", async () => {
    const strategies = ["random", "smaller-model", "truncate", "inflate", "replay"];
    const ids = new Map<string, string>();
    for (const [i, s] of strategies.entries()) ids.set(s, await net.startAdversary(s, { operator: `cheater-${i}` }));
    await net.waitForProviders(3 + strategies.length);
    for (const id of ids.values()) await stake(id);
    const regions = (await nodes()).filter((n) => [...ids.values()].includes(n.id));
    expect(regions).toHaveLength(strategies.length);
    for (const n of regions) for (const p of ["The world is", "Once upon a time"]) await submit(n.region, p);
    for (const [s, id] of ids) {
      const view = await until(
        `${s} slashed`,
        async () => {
          const v = (await nodes()).find((n) => n.id === id);
          return v?.excluded && BigInt(v.slashed) > 0n ? v : undefined;
        },
        120_000,
      );
      expect(BigInt(view.stake)).toBeLessThan(MIN_STAKE);
    }
    const ledger = await net.admin.ledger();
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
    expect(BigInt(ledger.accounts.burned ?? "0")).toBeGreaterThan(0n);
    expect((await node("honest"))?.slashed).toBe("0");
  }, 240_000);
});
