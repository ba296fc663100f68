// Summarises a V8 .cpuprofile (node --cpu-prof): busy time by package and the functions with
// the most self and inclusive time, so a results file can say where a process spent its CPU.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A named share of CPU: a sample counts for the first bucket any frame of its stack matches. */
export interface Bucket {
  name: string;
  re: RegExp;
}

/** Where a gateway's CPU goes, by what the code is for (first match wins, top to bottom). */
export const GATEWAY_BUCKETS: Bucket[] = [
  { name: "result signature check (ed25519 verify + KeyObject from the node id)", re: /^verifyBytes |signing\.ts/ },
  {
    name: "SQLite group commit (store/commit: Kysely build + better-sqlite3)",
    re: /store\/src\/commit\/|GroupWriter|writer\.ts/,
  },
  {
    name: "store reads outside commits (attempts, jobs, shares book, ...)",
    re: /store\/src\/(kysely-store|settlement|explorer)/,
  },
  { name: "other SQLite queries (Kysely: explorer, sampler, ...)", re: /kysely\/|better-sqlite3/ },
  { name: "verification / audit coordinator", re: /gateway\/src\/verification\// },
  { name: "settlement shares", re: /gateway\/src\/settlement\// },
  { name: "logging (pino)", re: /pino\/|sonic-boom/ },
  { name: "metrics (prom-client)", re: /prom-client/ },
  {
    name: "HTTP API (node http parse, Fastify route/hooks/serialise, handlers)",
    re: /_http_|fastify\/|find-my-way|routes\/|auth\.ts/,
  },
  { name: "scheduler (scheduleRound, core schedule)", re: /scheduleRound |scheduler\// },
  { name: "provider WebSocket (ws frames, JSON + zod of messages)", re: /ws\/lib\/|channel\.ts/ },
  { name: "engine bookkeeping (engine.ts, core transitions)", re: /engine\/|core\/src\// },
  { name: "socket writes flushed outside a handler (writev)", re: /^writev|_writev|writeGeneric|writevGeneric/ },
  { name: "GC", re: /^\(garbage collector\)/ },
];

export interface ProfileSummary {
  file: string;
  wallMs: number;
  /** ms not idle: what the process actually ran */
  busyMs: number;
  /** with buckets: busy ms per bucket, the rest under "other" */
  byBucket?: { bucket: string; ms: number; pctOfBusy: number }[];
  /** the heaviest self-time functions of samples no bucket matched */
  otherTop?: { fn: string; ms: number; pctOfBusy: number }[];
  byArea: { area: string; ms: number; pctOfBusy: number }[];
  topSelf: { fn: string; ms: number; pctOfBusy: number }[];
  topInclusive: { fn: string; ms: number; pctOfBusy: number }[];
}

/** Which package or subsystem a frame belongs to, from its script URL. */
function areaOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(program)") return "(program: native, unattributed)";
    return "native / builtins";
  }
  if (url.startsWith("node:")) return "node internals";
  const pkg = /\/packages\/([^/]+)\//.exec(url);
  if (pkg && !url.includes("/node_modules/")) return `@tessera/${pkg[1]}`;
  const mod = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url);
  if (mod) return mod[1]!;
  return "other";
}

function label(frame: ProfileNode["callFrame"]): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  const short = frame.url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "")
    .replace(/^.*\/packages\//, "");
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

/**
 * `window` limits the summary to samples between two instants of the host's monotonic clock in
 * ms (process.hrtime), which is also V8's profile clock, e.g. the measured phase of a bench
 * without the process's start-up.
 */
export function summarizeProfile(
  file: string,
  window?: { fromMs: number; toMs: number },
  top = 25,
  buckets?: Bucket[],
): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const from = window ? window.fromMs * 1000 : Number.NEGATIVE_INFINITY;
  const to = window ? window.toMs * 1000 : Number.POSITIVE_INFINITY;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  let at = p.startTime;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) continue;
    first = Math.min(first, at - dt);
    last = Math.max(last, at);
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const area = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const inclFn = new Map<string, number>();
  const bucketUs = new Map<string, number>();
  const otherFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const a = areaOf(node.callFrame);
    if (a === "(idle)") continue;
    area.set(a, (area.get(a) ?? 0) + us);
    const key = label(node.callFrame);
    selfFn.set(key, (selfFn.get(key) ?? 0) + us);
    // inclusive: once per distinct function on the stack
    const seen = new Set<string>();
    const stack: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.functionName === "(root)") continue;
      const k = label(f);
      stack.push(k);
      if (seen.has(k)) continue;
      seen.add(k);
      inclFn.set(k, (inclFn.get(k) ?? 0) + us);
    }
    if (buckets) {
      const b = buckets.find((x) => stack.some((k) => x.re.test(k)))?.name ?? "other";
      bucketUs.set(b, (bucketUs.get(b) ?? 0) + us);
      if (b === "other") otherFn.set(key, (otherFn.get(key) ?? 0) + us);
    }
  }
  const wallUs = Number.isFinite(last - first) ? last - first : 0;
  const busyUs = [...area.values()].reduce((a, b) => a + b, 0);
  const rows = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, ms: Math.round(us / 100) / 10, pctOfBusy: Math.round((1000 * us) / busyUs) / 10 }));
  return {
    file,
    wallMs: Math.round(wallUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    byArea: rows(area, 20).map(({ k, ms, pctOfBusy }) => ({ area: k, ms, pctOfBusy })),
    ...(buckets
      ? {
          byBucket: rows(bucketUs, 50).map(({ k, ms, pctOfBusy }) => ({ bucket: k, ms, pctOfBusy })),
          otherTop: rows(otherFn, 12).map(({ k, ms, pctOfBusy }) => ({ fn: k, ms, pctOfBusy })),
        }
      : {}),
    topSelf: rows(selfFn, top).map(({ k, ms, pctOfBusy }) => ({ fn: k, ms, pctOfBusy })),
    topInclusive: rows(inclFn, top).map(({ k, ms, pctOfBusy }) => ({ fn: k, ms, pctOfBusy })),
  };
}

/**
 * The main-thread profile of process `pid` in a --cpu-prof-dir. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; other files there belong to worker threads
 * (tsx's loader, wasm workers) or to helper processes the daemon spawned.
 */
export function mainProfile(dir: string, pid: number | undefined): string | undefined {
  try {
    const f = readdirSync(dir).find(
      (n) => n.endsWith(".cpuprofile") && n.split(".")[3] === String(pid) && n.split(".")[4] === "0",
    );
    return f === undefined ? undefined : join(dir, f);
  } catch {
    return undefined;
  }
}

/** A short markdown rendering for the console. */
export function profileText(name: string, s: ProfileSummary, rows = 12): string {
  const out = [`${name}: busy ${s.busyMs} ms of ${s.wallMs} ms wall`];
  if (s.byBucket) {
    out.push("  by purpose:");
    for (const b of s.byBucket) out.push(`    ${b.pctOfBusy.toFixed(1).padStart(5)}%  ${b.bucket}`);
    out.push("  heaviest functions under 'other':");
    for (const f of s.otherTop ?? []) out.push(`    ${f.pctOfBusy.toFixed(1).padStart(5)}%  ${f.fn}`);
  }
  out.push("  by package:");
  for (const a of s.byArea.slice(0, rows)) out.push(`    ${a.pctOfBusy.toFixed(1).padStart(5)}%  ${a.area}`);
  out.push("  top inclusive:");
  for (const f of s.topInclusive.slice(0, rows)) out.push(`    ${f.pctOfBusy.toFixed(1).padStart(5)}%  ${f.fn}`);
  out.push("  top self:");
  for (const f of s.topSelf.slice(0, rows)) out.push(`    ${f.pctOfBusy.toFixed(1).padStart(5)}%  ${f.fn}`);
  return out.join("\n");
}

/** A profile summary as README markdown: shares by purpose (or package) and per unit of work. */
export function profileSection(
  title: string,
  s: ProfileSummary,
  per?: { unit: string; count: number; scaleTo?: number },
): { title: string; lines: string[] } {
  const rows =
    s.byBucket?.map((b) => ({ name: b.bucket, ms: b.ms, pct: b.pctOfBusy })) ??
    s.byArea.map((a) => ({ name: a.area, ms: a.ms, pct: a.pctOfBusy }));
  // `scaleTo` (CPU ms per unit from /proc) turns shares into ms per unit of work.
  const perUnit = (pct: number, ms: number) =>
    per ? (per.scaleTo !== undefined ? (pct / 100) * per.scaleTo : ms / per.count).toFixed(3) : "";
  const lines = [
    `| where the CPU went | share | ${per ? `ms per ${per.unit}` : ""} |`,
    "|---|---|---|",
    ...rows.map((r) => `| ${r.name} | ${r.pct.toFixed(1)}% | ${perUnit(r.pct, r.ms)} |`),
    "",
    `Busy ${s.busyMs} ms of CPU over ${s.wallMs} ms (measured phase only). Heaviest functions (self time): ` +
      s.topSelf
        .slice(0, 8)
        .map((f) => `\`${f.fn}\` ${f.pctOfBusy}%`)
        .join(", ") +
      ".",
  ];
  if (per?.scaleTo !== undefined)
    lines.push(
      "",
      `ms per ${per.unit} = share × ${per.scaleTo.toFixed(3)} ms, the gateway's CPU per ${per.unit} measured from /proc ` +
        "in this run; the profiler itself adds roughly a fifth, so take the shares more than the milliseconds.",
    );
  return { title, lines };
}
