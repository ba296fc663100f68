// Audits, stake and slashes in the explorer and the dashboard, end to end: a real gateway that
// audits every result, two verifiers of their own operators, a staked honest provider and a staked
// cheating one (test/helpers/adversary.ts). The explorer JSON must carry each audit's signed
// verdicts, stake and unbonding from the ledger, pass rates and the slash with its split; the
// pages in headless Chromium must show them.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { verifyVerdictSignature } from "@tessera/protocol";
import type { TesseraClient } from "@tessera/sdk";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { stakedVerifiers, verificationReads } from "../helpers/verification.js";
import { ensureDashboardBuilt, launchBrowser, SCREENSHOTS } from "./browser.js";

const CREDIT = 1_000_000_000n;
const MIN_STAKE = CREDIT;
const verifiers = stakedVerifiers(MIN_STAKE);
const TINY = "96389be0649aa1e54654fb5a2be80e0de9001a4b0e1003598cf93a10efee6b5b";

interface VerdictJson {
  verifier: string;
  pass: boolean;
  signature: string;
  checks: string[];
  reasons: string[];
  metrics: Record<string, number>;
  elapsedMs: number;
  at: number;
}
interface AuditJson {
  id: string;
  kind: string;
  status: string;
  createdAt: number;
  decidedAt: number | null;
  verdicts: VerdictJson[];
}
interface JobJson {
  job: { id: string; outputHash: string | null; provider: string | null };
  audits: AuditJson[];
  auditsRecorded: boolean;
}
interface ProviderJson {
  id: string;
  region: string;
  stake: string | null;
  unbonding: string | null;
  excluded: boolean;
}
interface ProviderDetailJson extends ProviderJson {
  unbondings: { id: string; amount: string; releaseAt: number }[];
  audits: { passed: number; failed: number; pending: number; passRate: number | null };
  slashes: {
    count: number;
    total: string;
    data: {
      jobId: string | null;
      auditId: string | null;
      kind: string | null;
      at: number;
      amount: string;
      refunded: string;
      rewarded: string;
      burned: string;
      reporters: string[];
    }[];
  };
}
interface LeaderJson {
  provider: string;
  auditPassRate: number | null;
  auditsPassed: number;
  auditsFailed: number;
}

describe("audits, stake and slashes in the explorer and the dashboard", () => {
  const net = new TestNetwork();
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let client: TesseraClient;
  let honest: ProviderJson;
  let cheaterId: string;
  let verifierIds: string[];
  const honestJobs: string[] = [];
  const cheaterJobs: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${net.url}${path}`);
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const admin = async (path: string, body: Record<string, string>) =>
    expect((await net.adminPost(path, body)).status).toBe(200);
  const providers = async () =>
    (await get<{ data: ProviderJson[] }>("/v1/explorer/providers?limit=50&sort=stake")).data;
  const submit = (region: string, prompt: string) =>
    client.submitJob({
      runtime: "llm",
      model: TINY,
      input: { prompt },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 24 },
      constraints: { regions: [region] },
    });
  const decidedAudits = (jobId: string) =>
    until(
      `audit of ${jobId} decided`,
      async () => {
        const j = await get<JobJson>(`/v1/explorer/jobs/${jobId}`);
        return j.audits.length > 0 && j.audits.every((a) => a.status !== "pending") ? j : undefined;
      },
      120_000,
    );

  beforeAll(async () => {
    ensureDashboardBuilt();
    mkdirSync(SCREENSHOTS, { recursive: true });
    // every result is audited; the verifiers hold half the stake a provider needs to be scheduled,
    // so they judge audits and never run jobs; no canary jobs, so that the cheater is caught by the
    // sampled audit (canaries.test.ts covers those)
    await net.startGateway([
      "--sample-ms",
      "500",
      ...verifiers.flags,
      "--audit-new-rate",
      "1",
      "--audit-floor",
      "1",
      "--canary-rate",
      "0",
    ]);
    await net.startProvider({ region: "verifier-a", extra: ["--verify", "--operator", "op-a"] });
    await net.startProvider({ region: "verifier-b", extra: ["--verify", "--operator", "op-b"] });
    await net.startProvider({ region: "honest", extra: ["--operator", "op-h"] });
    cheaterId = await net.startAdversary("random", { operator: "op-cheater" });
    await net.waitForProviders(4);
    client = (await net.consumer()).client;
    const all = await until("4 providers listed", async () => {
      const list = await providers();
      return list.length === 4 ? list : undefined;
    });
    honest = all.find((p) => p.region === "honest") as ProviderJson;
    verifierIds = all.filter((p) => p.region.startsWith("verifier-")).map((p) => p.id);
    expect(verifierIds).toHaveLength(2);
    // the honest provider bonds 3 credits and unbonds 1 of them; the cheater bonds the minimum
    await admin("/v1/admin/stake", { providerId: honest.id, amount: (3n * CREDIT).toString() });
    await admin("/v1/admin/unbond", { providerId: honest.id, amount: CREDIT.toString() });
    await admin("/v1/admin/stake", { providerId: cheaterId, amount: MIN_STAKE.toString() });
    await verifiers.stake(verificationReads(net), 2);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await net.stop();
  });

  it("records every honest result's audit with its signed verdict, verifier and margins", async () => {
    for (const p of ["Once upon a time", "The world is", "water"]) honestJobs.push((await submit("honest", p)).id);
    for (const id of honestJobs) expect((await client.waitForJob(id)).status).toBe("completed");
    for (const id of honestJobs) {
      const j = await decidedAudits(id);
      expect(j.auditsRecorded).toBe(true);
      const sampled = j.audits.filter((a) => a.kind === "sampled");
      expect(sampled).toHaveLength(1);
      const [a] = sampled;
      expect(a?.status).toBe("passed");
      expect(a?.decidedAt).toBeGreaterThanOrEqual(a?.createdAt ?? Number.POSITIVE_INFINITY);
      expect(a?.verdicts.length).toBeGreaterThanOrEqual(1);
      for (const v of a?.verdicts ?? []) {
        expect(verifierIds).toContain(v.verifier);
        expect(v.pass).toBe(true);
        expect(v.reasons).toEqual([]);
        expect(v.checks.length).toBeGreaterThan(0);
        expect(v.metrics.tokensChecked).toBeGreaterThan(0);
        // the signature is the verifier's over this audit of this result
        const claim = { auditId: a?.id ?? "", jobId: id, outputHash: j.job.outputHash ?? "", pass: v.pass };
        expect(verifyVerdictSignature(v.verifier, claim, v.signature)).toBe(true);
        expect(verifyVerdictSignature(v.verifier, { ...claim, pass: false }, v.signature)).toBe(false);
      }
    }
  }, 240_000);

  it("slashes the cheater and shows the slash, its split and its stake left", async () => {
    const region = (await providers()).find((p) => p.id === cheaterId)?.region as string;
    for (const p of ["The world is", "Once upon a time"]) cheaterJobs.push((await submit(region, p)).id);
    const detail = await until(
      "the cheater slashed",
      async () => {
        const d = await get<ProviderDetailJson>(`/v1/explorer/providers/${cheaterId}`);
        return d.slashes.count > 0 && d.excluded ? d : undefined;
      },
      180_000,
    );
    const [slash] = detail.slashes.data;
    expect(cheaterJobs).toContain(slash?.jobId);
    expect(slash?.kind).toBe("sampled");
    expect(slash?.auditId).toMatch(/^aud_/);
    expect(BigInt(slash?.amount ?? "0")).toBeGreaterThan(0n);
    expect(BigInt(slash?.refunded ?? "0") + BigInt(slash?.rewarded ?? "0") + BigInt(slash?.burned ?? "0")).toBe(
      BigInt(slash?.amount ?? "-1"),
    );
    // two verdicts against it caught it: both verifiers are rewarded
    expect([...(slash?.reporters ?? [])].sort()).toEqual([...verifierIds].sort());
    // what the slashes took is what its stake lost
    expect(BigInt(detail.stake ?? "0") + BigInt(detail.slashes.total)).toBe(MIN_STAKE);
    expect(detail.audits.failed).toBeGreaterThanOrEqual(1);
    expect(detail.audits.passRate).toBe(0);

    const slashedJob = await get<JobJson>(`/v1/explorer/jobs/${slash?.jobId}`);
    const audit = slashedJob.audits.find((a) => a.id === slash?.auditId);
    expect(audit?.status).toBe("slashed");
    expect(
      audit?.verdicts
        .filter((v) => !v.pass)
        .map((v) => v.verifier)
        .sort(),
    ).toEqual([...verifierIds].sort());
    expect(audit?.verdicts.every((v) => v.reasons.length > 0 || v.pass)).toBe(true);
  }, 240_000);

  it("answers stake, unbonding and audit pass rates in the explorer JSON", async () => {
    const list = await providers();
    const h = list.find((p) => p.id === honest.id);
    expect(h).toMatchObject({ stake: (2n * CREDIT).toString(), unbonding: CREDIT.toString(), excluded: false });
    for (const id of verifierIds)
      expect(list.find((p) => p.id === id)).toMatchObject({ stake: (MIN_STAKE / 2n).toString(), unbonding: "0" });
    // sorted by stake: the honest provider's 2 credits lead
    expect(list[0]?.id).toBe(honest.id);

    const d = await get<ProviderDetailJson>(`/v1/explorer/providers/${honest.id}`);
    expect(d.unbondings.map((u) => u.amount)).toEqual([CREDIT.toString()]);
    expect(d.unbondings[0]?.releaseAt).toBeGreaterThan(Date.now());
    expect(d.slashes).toEqual({ count: 0, total: "0", data: [] });
    expect(d.audits.failed).toBe(0);
    expect(d.audits.passed).toBeGreaterThanOrEqual(honestJobs.length);
    expect(d.audits.passRate).toBe(1);

    const board = await until("the leaderboard with both providers", async () => {
      const b = await get<{ auditsRecorded: boolean; data: LeaderJson[] }>("/v1/explorer/leaderboard");
      return b.data.some((r) => r.provider === cheaterId && r.auditsFailed > 0) ? b : undefined;
    });
    expect(board.auditsRecorded).toBe(true);
    const hr = board.data.find((r) => r.provider === honest.id);
    expect(hr?.auditPassRate).toBe(1);
    expect(hr?.auditsPassed).toBe(d.audits.passed);
    expect(board.data.find((r) => r.provider === cheaterId)?.auditPassRate).toBe(0);

    // the overview's samples count the decided audits: passes and the slash
    const series = await until("samples counting passed and failed audits", async () => {
      const o = await get<{ auditsRecorded: boolean; series: Record<string, (number | null)[]> }>(
        "/v1/explorer/overview",
      );
      const sum = (k: string) => (o.series[k] ?? []).reduce<number>((s, v) => s + (v ?? 0), 0);
      return o.auditsRecorded && sum("auditsPassed") > 0 && sum("auditsFailed") > 0 ? o.series : undefined;
    });
    expect(series.auditsPassed?.every((v) => v !== null && v >= 0)).toBe(true);
  }, 120_000);

  it("shows the audits chart, a job's verdicts, stake, pass rates and the slash in the pages", async () => {
    await page.goto(net.url);
    await page.waitForFunction(`Number(document.querySelector('[data-chart="Audits"]')?.dataset.nonzero) > 0`);
    await expect(page.locator('[data-chart="Audits"] canvas').count()).resolves.toBeGreaterThan(0);
    await shot("audits-overview");

    const jobId = honestJobs[0] as string;
    const j = await get<JobJson>(`/v1/explorer/jobs/${jobId}`);
    const v = j.audits[0]?.verdicts[0] as VerdictJson;
    await page.goto(`${net.url}/jobs/${jobId}`);
    const card = page.locator(`[data-testid="audit"] [data-testid="verdict"][data-verifier="${v.verifier}"]`).first();
    await card.waitFor();
    expect(await card.getAttribute("data-pass")).toBe("true");
    await card.locator('[data-testid="verdict-signature"][data-state="valid"]').waitFor();
    await expect(card.locator('[data-testid="verdict-verifier"] a').getAttribute("href")).resolves.toBe(
      `/providers/${v.verifier}`,
    );
    await expect(card.locator('[data-metric="tokensChecked"]').textContent()).resolves.toContain(
      String(v.metrics.tokensChecked),
    );
    await expect(page.locator('[data-testid="audit"]').first().getAttribute("data-status")).resolves.toBe("passed");
    expect(await page.locator('[data-testid="trail"]').textContent()).toContain("Audit passed");
    await shot("job-audited");

    await page.goto(`${net.url}/providers?sort=stake`);
    const stake = page.locator(`tr:has(a[href="/providers/${honest.id}"]) [data-testid="provider-stake"]`);
    await stake.waitFor();
    expect(await stake.getAttribute("data-stake")).toBe((2n * CREDIT).toString());
    await expect(stake.textContent()).resolves.toMatch(/^2\b.*1 unbonding/);
    await shot("providers-stake");

    await page.goto(`${net.url}/leaderboard`);
    const rate = page.locator(`tr:has(a[href="/providers/${honest.id}"]) [data-testid="audit-pass-rate"]`);
    await rate.waitFor();
    expect(await rate.getAttribute("data-rate")).toBe("1");
    await expect(rate.textContent()).resolves.toContain("100.0 %");
    await expect(
      page.locator(`tr:has(a[href="/providers/${cheaterId}"]) [data-testid="audit-pass-rate"]`).textContent(),
    ).resolves.toContain("0.0 %");
    await shot("leaderboard-audits");

    const d = await get<ProviderDetailJson>(`/v1/explorer/providers/${cheaterId}`);
    const slash = d.slashes.data[0];
    await page.goto(`${net.url}/providers/${cheaterId}`);
    const row = page.locator(`[data-testid="slash"][data-job="${slash?.jobId}"]`);
    await row.waitFor();
    expect(await row.locator('[data-testid="slash-amount"]').getAttribute("data-amount")).toBe(slash?.amount);
    await expect(row.locator(`a[href="/jobs/${slash?.jobId}"]`).count()).resolves.toBe(1);
    await page.locator('[data-testid="excluded"]').waitFor();
    expect(await page.locator('[data-testid="stake"]').getAttribute("data-amount")).toBe(d.stake);
    await shot("provider-slashed");

    await row.locator(`a[href="/jobs/${slash?.jobId}"]`).click();
    await page.locator('[data-testid="audit"][data-status="slashed"]').waitFor();
    expect(await page.locator('[data-testid="verdict"][data-pass="false"]').count()).toBe(2);
    await page.locator('[data-testid="verdict-signature"][data-state="valid"]').first().waitFor();
    expect(await page.locator('[data-testid="verdict-signature"][data-state="invalid"]').count()).toBe(0);
    await shot("job-slashed");

    await page.goto(`${net.url}/providers/${honest.id}`);
    await page.locator('[data-testid="no-slashes"]').waitFor();
    expect(await page.locator('[data-testid="unbonding"]').getAttribute("data-amount")).toBe(CREDIT.toString());
  }, 120_000);

  it("brings a job's verdict into its open page as the audit is decided, without a reload", async () => {
    const job = await submit("honest", "fire and ice");
    await page.goto(`${net.url}/jobs/${job.id}`);
    await page.locator('[data-testid="trail"]').waitFor();
    // a mark on this document: a navigation or reload would lose it
    await page.evaluate((id) => Object.assign(globalThis, { tesseraMark: id }), job.id);
    // a single pass is re-checked by a second verifier at --pass-recheck-rate, so there may be two
    await page
      .locator('[data-testid="audit"][data-status="passed"] [data-testid="verdict"][data-pass="true"]')
      .first()
      .waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => (globalThis as { tesseraMark?: string }).tesseraMark)).toBe(job.id);
  }, 90_000);
});
