// Headless Chromium (Debian's package) driven by playwright-core, as the dashboard tests and
// benchmark use it; and a check that the dashboard build is there and newer than its sources.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = resolve(import.meta.dirname, "../../bench/results/screenshots");
const PACKAGE = resolve(import.meta.dirname, "../../packages/dashboard");
const DIST = join(PACKAGE, "dist/index.html");

/** The newest modification time among the app's sources (what `vite build` reads). */
function sourcesChangedAt(): number {
  const files = [
    "index.html",
    "vite.config.ts",
    ...readdirSync(join(PACKAGE, "app"), { recursive: true, encoding: "utf8" }).map((f) => join("app", f)),
  ];
  return Math.max(...files.map((f) => statSync(join(PACKAGE, f)).mtimeMs));
}

/** Builds the app when there is no build or a source changed after it: the tests must see the code. */
export function ensureDashboardBuilt(): void {
  if (existsSync(DIST) && statSync(DIST).mtimeMs >= sourcesChangedAt()) return;
  execFileSync("npm", ["run", "build", "-w", "@tessera/dashboard"], {
    stdio: "inherit",
    cwd: resolve(import.meta.dirname, "../.."),
  });
}

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  // a fresh profile per run; playwright passes it as --user-data-dir
  const userDataDir = mkdtempSync(join(tmpdir(), "tessera-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
    viewport: { width: 1440, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
