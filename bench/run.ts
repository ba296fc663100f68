// `npm run bench`: every benchmark in bench/ (each *.ts here but this file), one after another,
// each in its own process, then bench/results/README.md rebuilt from all results.
//   npm run bench                                   all of them
//   npm run bench -- --only gateway-overhead,job-throughput
//   npm run bench -- --skip dashboard-load --jobs 20000   (other flags go to benches that take them)
//   npm run bench -- --list
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./lib/network.js";
import { writeReadme } from "./lib/results.js";

const FIRST = ["gateway-overhead", "job-throughput"];
const dir = join(REPO, "bench");
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort((a, b) => {
    const ra = FIRST.includes(a) ? FIRST.indexOf(a) : FIRST.length;
    const rb = FIRST.includes(b) ? FIRST.indexOf(b) : FIRST.length;
    return ra - rb || a.localeCompare(b);
  });

const argv = process.argv.slice(2);
const take = (name: string): string[] | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = argv[i + 1] ?? "";
  argv.splice(i, 2);
  return v.split(",").filter(Boolean);
};
const only = take("only");
const skip = take("skip") ?? [];
if (argv.includes("--list")) {
  process.stdout.write(`${all.join("\n")}\n`);
  process.exit(0);
}
for (const n of [...(only ?? []), ...skip])
  if (!all.includes(n)) throw new Error(`no bench named '${n}' (have: ${all.join(", ")})`);
const chosen = all.filter((n) => (only ? only.includes(n) : true) && !skip.includes(n));

// What the results files record as the command: how this run was started, as typed.
const typed = process.env.npm_lifecycle_event === "bench" ? "npm run bench" : "npx tsx bench/run.ts";
const passed = process.argv.slice(2);
const via = `${typed}${passed.length ? `${typed.startsWith("npm") ? " --" : ""} ${passed.join(" ")}` : ""}`;

/** Benches built on bench/lib/flags.ts ignore flags they do not know; others get none. */
function takesFlags(name: string): boolean {
  return readFileSync(join(dir, `${name}.ts`), "utf8").includes("./lib/flags.js");
}

const outcomes: { name: string; code: number | null; seconds: number }[] = [];
for (const [i, name] of chosen.entries()) {
  process.stderr.write(`\n=== [${i + 1}/${chosen.length}] bench/${name}.ts ===\n`);
  const t0 = Date.now();
  const args = takesFlags(name) ? argv : [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(dir, `${name}.ts`), ...args], {
      cwd: REPO,
      stdio: "inherit",
      env: { ...process.env, BENCH_VIA: via },
    });
    child.on("exit", (c) => resolve(c));
    child.on("error", () => resolve(1));
  });
  outcomes.push({ name, code, seconds: (Date.now() - t0) / 1000 });
}

writeReadme();
process.stderr.write("\n=== summary ===\n");
for (const o of outcomes)
  process.stderr.write(
    `  ${o.code === 0 ? "ok  " : "FAIL"}  ${o.name.padEnd(22)} ${o.seconds.toFixed(0).padStart(5)} s${o.code === 0 ? "" : ` (exit ${o.code})`}\n`,
  );
process.stderr.write(`results: ${join(REPO, "bench/results/README.md")}\n`);
process.exit(outcomes.every((o) => o.code === 0) ? 0 : 1);
