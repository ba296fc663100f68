// Where the built dashboard lives, for the gateway to serve. The browser app itself is under
// app/ (built by Vite into dist/ by the root `prepare` script, or `npm run build -w @tessera/dashboard`).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const dashboardDist: string = resolve(import.meta.dirname, "../dist");

/** true when dist/ holds a built dashboard */
export function dashboardBuilt(dir: string = dashboardDist): boolean {
  return existsSync(join(dir, "index.html"));
}
