// The dashboard end to end in headless Chromium against a real network (gateway + provider
// processes): jobs appear and complete in the page live, a job's trail shows its signature
// checked valid in the page (and invalid when tampered with), charts fill, invariants hold.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBuiltinModule } from "@tessera/runtimes";
import { BatchClient, type TesseraClient } from "@tessera/sdk";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credits } from "../../packages/dashboard/app/format.js";
import { TestNetwork, tinyModel, until } from "../helpers/network.js";
import { ensureDashboardBuilt, launchBrowser, SCREENSHOTS } from "./browser.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("dashboard in a real browser", () => {
  const net = new TestNetwork();
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let client: TesseraClient;
  let apiKey: string;
  let consumerId: string;
  let reverse: string;
  let model: string;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    ensureDashboardBuilt();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await net.startGateway(["--sample-ms", "500"]);
    await net.startProvider({ region: "eu-west", price: 40 });
    await net.startProvider({ region: "us-east", price: 60 });
    await net.waitForProviders(2);
    const c = await net.consumer();
    client = c.client;
    apiKey = c.apiKey;
    consumerId = c.id;
    reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    model = createHash("sha256")
      .update(readFileSync(await tinyModel()))
      .digest("hex");
    browser = await launchBrowser();
    context = browser.context;
    page = await context.newPage();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await net.stop();
  });

  it("shows the providers online on the overview and fills the charts live", async () => {
    await page.goto(net.url);
    await page.locator('[data-testid="stat-providers"] .value', { hasText: "2" }).waitFor();
    await page.locator('[data-testid="live"]', { hasText: "live" }).waitFor();
    // a burst of work, then the jobs-per-second chart must show it
    const jobs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(`warm ${i}`) } }),
      ),
    );
    await Promise.all(jobs.map((j) => client.waitForJob(j.id)));
    const chart = page.locator('[data-chart="Jobs per second"]');
    await page.waitForFunction(`Number(document.querySelector('[data-chart="Jobs per second"]')?.dataset.points) >= 3`);
    await expect(chart.locator("canvas").count()).resolves.toBeGreaterThan(0);
    // the completions land in the next sample taken after them: wait for it, read by the page itself
    const series = await until("a sample counting the completed jobs", async () => {
      const got = (await page.evaluate(
        async () => ((await (await fetch("/v1/explorer/overview")).json()) as { series: unknown }).series,
      )) as Record<string, number[]>;
      return got.jobsPerSec?.some((v) => v > 0) ? got : undefined;
    });
    expect(series.providersOnline?.at(-1)).toBe(2);
    // the all-time counts catch up in the open page too, without a reload
    await page.waitForFunction(
      `Number(document.querySelector('[data-testid="stat-completed"] .value')?.textContent) >= 6`,
      undefined,
      { timeout: 30_000 },
    );
    const light = (await (await fetch(`${net.url}/v1/explorer/overview?series=false`)).json()) as Record<
      string,
      unknown
    >;
    expect(light).toMatchObject({ object: "overview", jobs: { completed: expect.any(Number) } });
    expect(light).not.toHaveProperty("series");
    expect((await fetch(`${net.url}/v1/explorer/overview?series=maybe`)).status).toBe(400);
    // audits are drawn here but no verifier is online to decide them: the chart is there, at zero
    await expect(page.locator('[data-chart="Audits"]').textContent()).resolves.toMatch(/passed/);
    expect(await page.locator('[data-chart="Audits"]').getAttribute("data-nonzero")).toBe("0");
    await shot("overview");
  });

  it("lists submitted jobs as they appear and completes them in the page without a reload", async () => {
    await page.goto(`${net.url}/jobs`);
    await page.locator('[data-testid="jobs-table"]').waitFor();
    const submitted = await Promise.all([
      client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64("dashboard") } }),
      client.submitJob({
        runtime: "llm",
        model,
        input: { prompt: "Hello from the dashboard test" },
        params: { temperature: 0 },
        limits: { maxOutputTokens: 12 },
      }),
    ]);
    for (const j of submitted) await page.locator(`tr[data-job="${j.id}"]`).waitFor({ timeout: 30_000 });
    for (const j of submitted)
      await page.locator(`tr[data-job="${j.id}"][data-status="completed"]`).waitFor({ timeout: 60_000 });
    // without a key the page does not learn who submitted them (consumers are private)
    for (const j of submitted) {
      const row = (await page.locator(`tr[data-job="${j.id}"]`).textContent()) ?? "";
      expect(row).toContain("private");
      expect(row).not.toContain(consumerId.slice(0, 8));
    }
    await shot("jobs");
  });

  it("opens a job's trail and checks its signature in the page: valid, and invalid when tampered", async () => {
    const job = await client.submitJob({
      runtime: "llm",
      model,
      input: { prompt: "Sign this" },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 8 },
    });
    await client.waitForJob(job.id);
    await page.goto(`${net.url}/account`);
    await page.getByLabel("API key").fill(apiKey);
    await page.getByRole("button", { name: "Use this key" }).click();
    await page.locator('[data-testid="balance"]').waitFor();
    await page.locator(`tr[data-job="${job.id}"] a[href^="/jobs/"]`).click();
    await page.locator('[data-testid="signature-verdict"][data-state="valid"]').waitFor();
    await expect(page.locator('[data-testid="hash-verdict"]').textContent()).resolves.toContain("matches");
    const trail = (await page.locator('[data-testid="trail"]').textContent()) ?? "";
    for (const step of ["Submitted", "Escrowed", "Attempt 1: leased", "Attempt 1: completed", "Settled"])
      expect(trail).toContain(step);
    // its owner's key is in the page: the owner sees itself
    expect(trail).toContain(`by consumer ${consumerId}`);
    await shot("job");

    // the same page given a result whose units were altered by a middleman must say invalid
    await page.route(`**/v1/explorer/jobs/${job.id}`, async (route) => {
      // a request the page drops (reload, navigation) fails here; that is not the test's concern
      try {
        const res = await route.fetch();
        const body = await res.json();
        body.job.units.standardUnits += 1;
        await route.fulfill({ response: res, json: body });
      } catch {}
    });
    await page.reload();
    await page.locator('[data-testid="signature-verdict"][data-state="invalid"]').waitFor();
    await shot("job-tampered");
    await page.unrouteAll({ behavior: "ignoreErrors" });
  });

  it("shows the ledger invariants passing, and the providers, leaderboard and account pages", async () => {
    await page.goto(`${net.url}/ledger`);
    const panel = page.locator('[data-testid="invariants"][data-ok="true"]');
    await panel.waitFor();
    expect(await page.locator('[data-invariant][data-ok="true"]').count()).toBe(3);
    await shot("ledger");

    await page.goto(`${net.url}/providers`);
    await page.locator('[data-testid="providers-table"] tbody tr').nth(1).waitFor();
    await expect(page.locator(".region").count()).resolves.toBe(2);
    await shot("providers");
    await page.locator('[data-testid="providers-table"] tbody tr a').first().click();
    await page.getByRole("heading", { name: "Recent jobs" }).waitFor();
    await shot("provider");

    // a job on each provider: the scheduler may have given all the earlier ones to the cheaper node,
    // and the leaderboard ranks only providers that did paid work
    for (const region of ["eu-west", "us-east"]) {
      const j = await client.submitJob({
        runtime: "wasm",
        module: reverse,
        input: { data: b64(`ranked in ${region}`) },
        constraints: { regions: [region] },
      });
      expect((await client.waitForJob(j.id)).status).toBe("completed");
    }
    // the page reads it once; the gateway recomputes it at most every 3 s
    await until("both providers on the leaderboard", async () => {
      const board = (await (await fetch(`${net.url}/v1/explorer/leaderboard`)).json()) as { data: unknown[] };
      return board.data.length >= 2 || undefined;
    });
    await page.goto(`${net.url}/leaderboard`);
    await page.locator('[data-testid="leaderboard"] tbody tr').nth(1).waitFor();
    await shot("leaderboard");

    await page.goto(`${net.url}/account`);
    await page.locator('[data-testid="account"]').waitFor();
    await shot("account");
  });

  it("shows my batches on the account page with their progress until they finish", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-dash-batch-"));
    const input = join(dir, "in.jsonl");
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        custom_id: `b${i}`,
        method: "POST",
        url: "/v1/jobs",
        body: { runtime: "wasm", module: reverse, input: { data: b64(`line ${i}`) } },
      }),
    );
    writeFileSync(input, `${lines.join("\n")}\n`);
    const batches = new BatchClient({ baseUrl: net.url, apiKey });
    const file = await batches.upload(input);
    const batch = await batches.create(file.id, "/v1/jobs");
    await page.goto(`${net.url}/account`);
    const row = page.locator(`[data-testid="batches"] tr[data-batch="${batch.id}"]`);
    await row.waitFor();
    // the page follows the batch by itself (no reload here) until it is done
    await page.locator(`tr[data-batch="${batch.id}"][data-status="completed"]`).waitFor({ timeout: 120_000 });
    await expect(row.locator('[data-testid="batch-done"]').textContent()).resolves.toBe("40/40");
    const final = await batches.get(batch.id);
    expect(final.request_counts).toMatchObject({ total: 40, completed: 40, failed: 0 });
    expect(BigInt(final.tessera.spent)).toBeGreaterThan(0n);
    await shot("account");
  }, 180_000);

  it("pages on from the last row shown after live jobs pushed rows off the first page", async () => {
    await page.goto(`${net.url}/account`);
    await page.evaluate(`localStorage.removeItem("tessera.apiKey")`);
    // more than a page of jobs, then the first page
    const older = await Promise.all(
      Array.from({ length: 55 }, (_, i) =>
        client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(`page ${i}`) } }),
      ),
    );
    await Promise.all(older.map((j) => client.waitForJob(j.id)));
    await page.goto(`${net.url}/jobs`);
    await page.locator('[data-testid="jobs-table"] tbody tr').nth(49).waitFor();
    // new jobs arrive live at the top and push as many rows off the bottom
    const live = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(`live ${i}`) } }),
      ),
    );
    for (const j of live) await page.locator(`tr[data-job="${j.id}"]`).waitFor({ timeout: 30_000 });
    const rows = page.locator('[data-testid="jobs-table"] tbody tr');
    const first = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job") ?? ""));
    expect(first).toHaveLength(50);
    await page.getByRole("button", { name: "Older →" }).click();
    // the second page has loaded when its first row is not one of the first page's
    await page.waitForFunction(
      `!${JSON.stringify(first)}.includes(document.querySelector('[data-testid="jobs-table"] tbody tr')?.getAttribute("data-job"))`,
    );
    const second = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job") ?? ""));
    // the explorer's own order: the second page starts right after the first page's last row
    const all = (await (await fetch(`${net.url}/v1/explorer/jobs?limit=200`)).json()) as { data: { id: string }[] };
    const ids = all.data.map((j) => j.id);
    const after = ids.indexOf(first.at(-1) ?? "");
    expect(after).toBeGreaterThan(0);
    expect(second.slice(0, 5)).toEqual(ids.slice(after + 1, after + 6));
  }, 120_000);

  it("keeps my jobs named as mine when live updates arrive, and names new ones too", async () => {
    await page.goto(`${net.url}/account`);
    await page.evaluate(`localStorage.setItem("tessera.apiKey", ${JSON.stringify(apiKey)})`);
    const me = consumerId.slice(0, 12);
    // a job no provider can take stays queued until it is cancelled
    const waiting = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("nowhere") },
      constraints: { regions: ["mars"] },
    });
    await page.goto(`${net.url}/jobs`);
    const row = page.locator(`tr[data-job="${waiting.id}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain(me);
    await client.cancelJob(waiting.id);
    await page.locator(`tr[data-job="${waiting.id}"][data-status="cancelled"]`).waitFor({ timeout: 30_000 });
    // the live feed is public and does not name the consumer: the row must not forget it
    await expect(row.textContent()).resolves.toContain(me);
    expect(await row.textContent()).not.toContain("private");
    // a job that first appears live is learnt to be mine with my key
    const fresh = await client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64("fresh") } });
    await page.locator(`tr[data-job="${fresh.id}"]`, { hasText: me }).waitFor({ timeout: 30_000 });
    await page.evaluate(`localStorage.removeItem("tessera.apiKey")`);
  }, 120_000);

  it("shows its owner a WASM job that trapped: failed, billed, and why it has no output", async () => {
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    // primes traps (unreachable) on input that is not a number
    const job = await client.waitForJob(
      (await client.submitJob({ runtime: "wasm", module: primes, input: { data: b64("not a number") } })).id,
    );
    expect(job.status).toBe("failed");
    expect(BigInt(job.cost ?? 0)).toBeGreaterThan(0n);
    await page.goto(`${net.url}/account`);
    await page.evaluate(`localStorage.setItem("tessera.apiKey", ${JSON.stringify(apiKey)})`);
    await page.goto(`${net.url}/jobs/${job.id}`);
    await page.locator('[data-testid="output"]', { hasText: "(none: wasm trap: unreachable)" }).waitFor();
    await page.locator("p.error", { hasText: "the job itself is at fault: wasm trap: unreachable" }).waitFor();
    await page.evaluate(`localStorage.removeItem("tessera.apiKey")`);
  }, 120_000);

  it("names each provider account by what it holds on the ledger page", async () => {
    const listed = (await (await fetch(`${net.url}/v1/explorer/providers?limit=1&sort=earnings`)).json()) as {
      data: { id: string }[];
    };
    const p = listed.data[0];
    if (!p) throw new Error("no provider listed");
    const admin = async (path: string, body: Record<string, string>) =>
      expect((await net.adminPost(path, body)).status).toBe(200);
    await admin("/v1/admin/stake", { providerId: p.id, amount: "2000000000" });
    await admin("/v1/admin/unbond", { providerId: p.id, amount: "1000000000" });
    // the stake shows among the totals, and the totals add up to what the internal accounts hold
    const ledger = await until("the ledger totals to count the stake", async () => {
      const l = (await (await fetch(`${net.url}/v1/explorer/ledger`)).json()) as {
        internalTotal: string;
        totals: Record<string, string>;
      };
      return BigInt(l.totals.stake ?? 0) >= 2_000_000_000n && l;
    });
    const sum = Object.values(ledger.totals).reduce((a, v) => a + BigInt(v), 0n);
    expect(sum).toBe(BigInt(ledger.internalTotal));
    await page.goto(`${net.url}/ledger?prefix=provider%3A`);
    await expect(page.locator('[data-total="stake"] .value').textContent()).resolves.toBe(credits(ledger.totals.stake));
    for (const suffix of ["stake", "unbonding", "earnings"]) {
      const name = page.locator(`[data-testid="accounts"] [data-account="provider:${p.id}:${suffix}"]`);
      await name.waitFor();
      await expect(name.textContent()).resolves.toBe(`provider:${p.id.slice(0, 10)}…:${suffix}`);
    }
    // the unbond posting moves stake to unbonding, and reads so
    const unbond = page.locator('[data-testid="postings"] tr', { hasText: "unbond" }).first();
    await unbond.waitFor();
    await expect(unbond.locator(`[data-account="provider:${p.id}:stake"]`).textContent()).resolves.toMatch(/:stake$/);
    await expect(unbond.locator(`[data-account="provider:${p.id}:unbonding"]`).textContent()).resolves.toMatch(
      /:unbonding$/,
    );
  });

  it("shows postings of jobs of the same second apart, and never fetches outside the explorer for a crafted id", async () => {
    const jobs = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        client.submitJob({ runtime: "wasm", module: reverse, input: { data: b64(`same ${i}`) } }),
      ),
    );
    await Promise.all(jobs.map((j) => client.waitForJob(j.id)));
    await page.goto(`${net.url}/ledger`);
    const shown = new Set<string>();
    for (const j of jobs) {
      const link = page.locator(`[data-testid="postings"] a[href="/jobs/${j.id}"]`).first();
      await link.waitFor();
      expect(await link.getAttribute("title")).toBe(j.id);
      shown.add((await link.textContent()) ?? "");
    }
    expect(shown.size).toBe(3);

    // a route id is data, not a path: the job page asks the explorer for that id and nothing else
    const asked: string[] = [];
    page.on("request", (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${net.url}/jobs/..%2F..%2Fadmin%2Fledger`);
    await page.locator("p.error").waitFor();
    await page.goto(`${net.url}/providers/..%2F..%2Fadmin%2Fledger`);
    await page.locator("p.error").waitFor();
    expect(asked.filter((p) => p.startsWith("/v1/") && !p.startsWith("/v1/explorer/"))).toEqual([]);

    // what a provider's history charts is what it earned (net of the fee), and says so
    const provider = jobs[0] ? (await client.waitForJob(jobs[0].id)).provider : null;
    await page.goto(`${net.url}/providers/${provider}`);
    const earned = page.locator('[data-chart="Earned (credits per bucket)"]');
    await earned.waitFor();
    expect(await page.locator('[data-chart^="Billed"]').count()).toBe(0);
    // the whole day, a point every 15 minutes, idle ones at zero: not only the periods it worked in
    expect(await earned.getAttribute("data-points")).toBe("97");
  });
});
