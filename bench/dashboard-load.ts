// Dashboard load time and live-update lag in headless Chromium, against a gateway whose store
// is empty and one seeded with 1,000 providers and 100,000 jobs, in the same run. The peer is
// the same dashboard on an empty store: the ratio says what the data costs the page.
//   npx tsx bench/dashboard-load.ts [--providers 1000] [--jobs 100000] [--runs 5]
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadBuiltinModule } from "@tessera/runtimes";
import { openStore } from "@tessera/store";
import type { Page } from "playwright-core";
import { ensureDashboardBuilt, launchBrowser } from "../test/dashboard/browser.js";
import { seedNetwork } from "../test/dashboard/seed.js";
import { TestNetwork } from "../test/helpers/network.js";

const { values: args } = parseArgs({
  options: {
    providers: { type: "string", default: "1000" },
    jobs: { type: "string", default: "100000" },
    runs: { type: "string", default: "5" },
    lag: { type: "string", default: "20" },
  },
});
const PROVIDERS = Number(args.providers);
const JOBS = Number(args.jobs);
const RUNS = Number(args.runs);
const LAG_SAMPLES = Number(args.lag);
const OUT = resolve(import.meta.dirname, "results");

/** What must be on screen for each page to count as loaded. */
const PAGES: { name: string; path: string; ready: string }[] = [
  { name: "overview", path: "/", ready: '[data-chart="Jobs per second"] canvas' },
  { name: "jobs", path: "/jobs", ready: '[data-testid="jobs-table"] tbody tr' },
  { name: "providers", path: "/providers", ready: '[data-testid="providers-table"] tbody tr' },
  { name: "ledger", path: "/ledger", ready: '[data-testid="invariants"][data-ok="true"]' },
  { name: "leaderboard", path: "/leaderboard", ready: '[data-testid="leaderboard"] tbody tr' },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] ?? 0) : 0;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)] ?? 0;
};

interface PageResult {
  medianMs: number;
  runsMs: number[];
  apiBytes: number;
  longTaskMs: number;
}

async function loadPage(
  page: Page,
  url: string,
  ready: string,
): Promise<{ ms: number; apiBytes: number; longTaskMs: number }> {
  let apiBytes = 0;
  const onResponse = async (r: import("playwright-core").Response) => {
    if (new URL(r.url()).pathname.startsWith("/v1/explorer/") && !r.url().includes("/stream")) {
      apiBytes += (await r.body().catch(() => Buffer.alloc(0))).length;
    }
  };
  page.on("response", onResponse);
  const t0 = performance.now();
  await page.goto(url, { waitUntil: "commit" });
  await page.locator(ready).first().waitFor({ timeout: 60_000 });
  const ms = performance.now() - t0;
  // main-thread time spent in tasks over 50 ms while loading: what would make the page feel stuck
  const longTaskMs = (await page.evaluate(
    `new Promise((r) => { let t = 0; new PerformanceObserver((l) => { for (const e of l.getEntries()) t += e.duration; }).observe({ type: "longtask", buffered: true }); setTimeout(() => r(t), 50); })`,
  )) as number;
  page.off("response", onResponse);
  return { ms, apiBytes, longTaskMs };
}

async function measure(label: string, seed: boolean) {
  const net = new TestNetwork();
  mkdirSync(net.dir, { recursive: true });
  let seedMs = 0;
  if (seed) {
    const t0 = performance.now();
    const store = await openStore(join(net.dir, "gateway.db"));
    await seedNetwork(store, { providers: PROVIDERS, jobs: JOBS, spanMs: 3_600_000 });
    await store.close();
    seedMs = performance.now() - t0;
    console.log(`[${label}] seeded ${PROVIDERS} providers and ${JOBS} jobs in ${(seedMs / 1000).toFixed(1)} s`);
  }
  await net.startGateway(["--sample-ms", "1000"]);
  await net.startProvider({ region: "eu-west", models: [], concurrency: 4 });
  await net.waitForProviders(1);
  const { client } = await net.consumer();
  const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    // a few jobs so the overview has a live chart and the leaderboard a row on an empty store
    for (let i = 0; i < 3; i++)
      await client.waitForJob(
        (await client.submitJob({ runtime: "wasm", module: reverse, input: { data: "AA==" } })).id,
      );
    await new Promise((r) => setTimeout(r, 2_500));

    const pages: Record<string, PageResult> = {};
    for (const p of PAGES) {
      await loadPage(page, net.url + p.path, p.ready); // warm: the first visit also fetches the bundle
      const runs: { ms: number; apiBytes: number; longTaskMs: number }[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await loadPage(page, net.url + p.path, p.ready));
      pages[p.name] = {
        medianMs: Math.round(median(runs.map((r) => r.ms))),
        runsMs: runs.map((r) => Math.round(r.ms)),
        apiBytes: Math.round(median(runs.map((r) => r.apiBytes))),
        longTaskMs: Math.round(median(runs.map((r) => r.longTaskMs))),
      };
      console.log(`[${label}] ${p.name}: ${pages[p.name]?.medianMs} ms, ${pages[p.name]?.apiBytes} API bytes`);
    }

    // live-update lag: submit a job, time until its row shows in the open jobs page, then
    // until the row shows it completed — no reload, only the SSE feed
    await page.goto(`${net.url}/jobs`);
    await page.locator('[data-testid="live"]', { hasText: "live" }).waitFor();
    const appear: number[] = [];
    const complete: number[] = [];
    for (let i = 0; i < LAG_SAMPLES; i++) {
      const t0 = performance.now();
      const job = await client.submitJob({
        runtime: "wasm",
        module: reverse,
        input: { data: Buffer.from(`lag ${i} ${randomBytes(4).toString("hex")}`).toString("base64") },
      });
      await page.locator(`tr[data-job="${job.id}"]`).waitFor({ timeout: 30_000 });
      appear.push(performance.now() - t0);
      await page.locator(`tr[data-job="${job.id}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
      complete.push(performance.now() - t0);
    }
    // and interactivity: a filter change on the jobs page answered with a re-rendered table
    const filterMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto(`${net.url}/jobs`);
      await page.locator('[data-testid="jobs-table"] tbody tr').first().waitFor();
      const t0 = performance.now();
      await page.getByLabel("Status").selectOption("failed");
      await page.waitForURL(/status=failed/);
      await page.waitForFunction(
        `[...document.querySelectorAll('[data-testid="jobs-table"] tbody tr')].every((r) => r.dataset.status === "failed")`,
      );
      filterMs.push(performance.now() - t0);
    }
    return {
      label,
      providers: seed ? PROVIDERS : 0,
      jobs: seed ? JOBS : 0,
      seedSeconds: Math.round(seedMs / 100) / 10,
      pages,
      liveLag: {
        samples: LAG_SAMPLES,
        appearMedianMs: Math.round(median(appear)),
        appearP95Ms: Math.round(p95(appear)),
        completedMedianMs: Math.round(median(complete)),
        completedP95Ms: Math.round(p95(complete)),
      },
      filterMedianMs: Math.round(median(filterMs)),
    };
  } finally {
    await browser.close();
    await net.stop();
  }
}

async function main() {
  ensureDashboardBuilt();
  const empty = await measure("empty", false);
  const seeded = await measure("seeded", true);
  const result = {
    bench: "dashboard-load",
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    settings: { providers: PROVIDERS, jobs: JOBS, runs: RUNS, lagSamples: LAG_SAMPLES },
    empty,
    seeded,
    ratios: Object.fromEntries(
      PAGES.map((p) => [
        p.name,
        Math.round(((seeded.pages[p.name]?.medianMs ?? 0) / Math.max(1, empty.pages[p.name]?.medianMs ?? 1)) * 100) /
          100,
      ]),
    ),
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "dashboard-load.json"), `${JSON.stringify(result, null, 2)}\n`);
  const rows = PAGES.map(
    (p) =>
      `| ${p.name} | ${empty.pages[p.name]?.medianMs} | ${seeded.pages[p.name]?.medianMs} | ${result.ratios[p.name]}× | ${empty.pages[p.name]?.apiBytes} | ${seeded.pages[p.name]?.apiBytes} | ${seeded.pages[p.name]?.longTaskMs} |`,
  );
  const md = `# Dashboard load and live-update lag

\`npx tsx bench/dashboard-load.ts --providers ${PROVIDERS} --jobs ${JOBS} --runs ${RUNS}\` — headless Debian Chromium
(playwright-core), a real gateway and one real provider process on loopback, SQLite store, ${result.machine.cpus} cores.
The peer is the same dashboard against an empty store in the same run; the seeded store holds
${PROVIDERS.toLocaleString("en-US")} providers and ${JOBS.toLocaleString("en-US")} jobs (seeded through the real transitions and ledger events in ${seeded.seedSeconds} s).

Load = from navigation until the page's main content is on screen (median of ${RUNS}, after one warm visit).
API bytes = explorer JSON the page fetched. Long tasks = main-thread tasks over 50 ms while loading (seeded).

| page | empty (ms) | seeded (ms) | seeded / empty | API bytes empty | API bytes seeded | long tasks seeded (ms) |
|---|---|---|---|---|---|---|
${rows.join("\n")}

Live-update lag (a job submitted over HTTP until its row appears in the open Jobs page, and until it shows completed; SSE, no reload; ${LAG_SAMPLES} jobs):

| store | appear median | appear p95 | completed median | completed p95 | status filter re-render (median) |
|---|---|---|---|---|---|
| empty | ${empty.liveLag.appearMedianMs} ms | ${empty.liveLag.appearP95Ms} ms | ${empty.liveLag.completedMedianMs} ms | ${empty.liveLag.completedP95Ms} ms | ${empty.filterMedianMs} ms |
| seeded | ${seeded.liveLag.appearMedianMs} ms | ${seeded.liveLag.appearP95Ms} ms | ${seeded.liveLag.completedMedianMs} ms | ${seeded.liveLag.completedP95Ms} ms | ${seeded.filterMedianMs} ms |
`;
  writeFileSync(join(OUT, "dashboard-load.md"), md);
  console.log(md);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
