// Results files: bench/results/<name>.json per bench, and bench/results/README.md rebuilt from
// every results file present after each run, so the table always shows each bench's last run.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { REPO } from "./network.js";

export const RESULTS_DIR = join(REPO, "bench/results");

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  os: string;
  memoryGiB: number;
}

/** One line of the README's summary table. */
export interface Row {
  metric: string;
  tessera: string;
  baseline: string;
  /** Tessera against the baseline: a ratio or a difference */
  versus: string;
  bar: string;
  /** pass / fail against the bar, or "info" for context rows */
  result: "pass" | "fail" | "info";
}

export interface BenchResult {
  bench: string;
  title: string;
  date: string;
  /** how this run was started, as typed */
  command: string;
  /** the same run on its own */
  reproduce: string;
  machine: Machine;
  durationS: number;
  rows: Row[];
  notes: string[];
  /** extra markdown under the notes, e.g. a breakdown table */
  sections?: { title: string; lines: string[] }[];
  details: unknown;
}

export function machine(): Machine {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    os: `${type()} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

/** The command line of this run: BENCH_* variables, then `npm run bench` (via run.ts) or tsx. */
export function commandLine(bench: string, flags: string[]): { command: string; reproduce: string } {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith("BENCH_") && k !== "BENCH_VIA")
    .map(([k, v]) => `${k}=${v}`);
  const prefix = env.length ? `${env.join(" ")} ` : "";
  const reproduce = `${prefix}npx tsx bench/${bench}.ts${flags.length ? ` ${flags.join(" ")}` : ""}`;
  const via = process.env.BENCH_VIA;
  return { command: via ? `${prefix}${via}` : reproduce, reproduce };
}

export function writeResult(result: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.bench}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeReadme();
  return file;
}

const ORDER = ["gateway-overhead", "job-throughput"];

function loadResults(): BenchResult[] {
  if (!existsSync(RESULTS_DIR)) return [];
  const out: BenchResult[] = [];
  for (const f of readdirSync(RESULTS_DIR).filter((n) => n.endsWith(".json"))) {
    try {
      const r = JSON.parse(readFileSync(join(RESULTS_DIR, f), "utf8")) as Partial<BenchResult>;
      if (r.bench && Array.isArray(r.rows) && r.machine) out.push(r as BenchResult);
    } catch {
      // not ours, or half-written by a concurrent run: leave it out of the table
    }
  }
  const rank = (b: string) => (ORDER.includes(b) ? ORDER.indexOf(b) : ORDER.length);
  return out.sort((a, b) => rank(a.bench) - rank(b.bench) || a.bench.localeCompare(b.bench));
}

const RESULT_MARK = { pass: "✅ pass", fail: "❌ fail", info: "" } as const;

/** Benches that write their own markdown (settlement gas, dashboard load, ...): linked by title. */
function otherReports(ours: Set<string>): string[] {
  if (!existsSync(RESULTS_DIR)) return [];
  const out: string[] = [];
  for (const f of readdirSync(RESULTS_DIR).sort()) {
    if (!f.endsWith(".md") || f === "README.md" || ours.has(f.slice(0, -3))) continue;
    const heading = readFileSync(join(RESULTS_DIR, f), "utf8")
      .split("\n")
      .find((l) => l.startsWith("# "));
    out.push(`- [${heading ? heading.slice(2).trim() : f}](${f})`);
  }
  return out;
}

export function writeReadme(): void {
  const results = loadResults();
  const lines = [
    "# Benchmark results",
    "",
    "Regenerated after every benchmark run from the `*.json` files beside it; each row is that bench's most",
    "recent run. `npm run bench` runs them all; each also runs alone (`npx tsx bench/<name>.ts --help` lists",
    "its flags, every flag also reads a `BENCH_<FLAG>` environment variable).",
    "",
    "| bench | metric | Tessera | baseline | Tessera vs baseline | bar | result |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of results)
    for (const row of r.rows)
      lines.push(
        `| [${r.bench}](#${r.bench}) | ${row.metric} | ${row.tessera} | ${row.baseline} | ${row.versus} | ${row.bar} | ${RESULT_MARK[row.result]} |`,
      );
  const others = otherReports(new Set(results.map((r) => r.bench)));
  if (others.length) lines.push("", "Other benchmarks write their own reports:", "", ...others);
  for (const r of results) {
    const m = r.machine;
    lines.push(
      "",
      `## ${r.bench}`,
      "",
      `**${r.title}**`,
      "",
      `- date: ${r.date} (took ${r.durationS.toFixed(0)} s)`,
      `- machine: ${m.nproc} CPUs (nproc), ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}`,
      `- command: \`${r.command}\``,
      ...(r.command !== r.reproduce ? [`- this bench alone: \`${r.reproduce}\``] : []),
      `- raw numbers: [${r.bench}.json](${r.bench}.json)`,
      "",
      ...r.notes.map((n) => `- ${n}`),
    );
    for (const sec of r.sections ?? []) lines.push("", `### ${sec.title}`, "", ...sec.lines);
  }
  lines.push("");
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, "README.md"), lines.join("\n"));
}
