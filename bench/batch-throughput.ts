// Batch throughput and memory. (1) An N-request LLM batch (tiny model, 4 tokens each by default:
// the worst case, where per-request overhead weighs most; --batch-tokens sets it) through
// Tessera — OpenAI Batches API, gateway, 3 provider processes — against the same requests run
// directly on node-llama-cpp by 3 local worker processes (the no-network ideal), in the same
// run; the bar is a ratio of at least 0.9. Both sides stay loaded and take turns in rounds
// (D T T D D T T D ...), so that a shared machine's drift in speed, which is larger than the
// difference being measured, falls on both alike. (2) The peak memory of a fresh gateway while
// a 100,000-line input is uploaded and streamed through a batch; the bar is under 200 MiB and flat.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ensureTinyModel } from "@tessera/runtimes";
import { BatchClient } from "@tessera/sdk";
import { type CpuWindow, cpuWindow } from "./lib/cpu.js";
import { GATEWAY_BUCKETS, mainProfile, profileSection, profileText, summarizeProfile } from "./lib/cpuprofile.js";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import { firstMessage, type Proc, REPO, spawnScript, TesseraNetwork, until } from "./lib/network.js";
import { startBar, stopBars } from "./lib/progress.js";
import { commandLine, machine, writeResult } from "./lib/results.js";
import { rounded, summarize } from "./lib/stats.js";
import { stamp } from "./lib/trace-types.js";

// flag names keep the BENCH_BATCH_* environment variables earlier runs were recorded with
const FLAGS = {
  "batch-n": { help: "requests per side (split over the rounds)", default: 10_000 },
  "batch-rounds": { help: "rounds per side; the order alternates D T T D ...", default: 4 },
  "batch-warmup": {
    help: "requests per side before the rounds, not measured (JIT, first contexts, SQLite's first pages)",
    default: 300,
  },
  "batch-memory-n": { help: "lines of the memory run's batch (0 skips the memory run)", default: 100_000 },
  "batch-memory-s": { help: "seconds the memory run's batch runs before it is cancelled", default: 60 },
  "batch-concurrency": { help: "llama.cpp contexts per provider and per direct worker", default: 1 },
  "batch-tokens": { help: "max_tokens of every request", default: 4 },
  "batch-prefetch": {
    help: "providers' --prefetch: batch leases waiting on each provider, so a slot never idles between jobs",
    default: 1,
  },
  "batch-profile": {
    help: "run the gateway, providers and direct workers under --cpu-prof and report where their main threads' CPU went",
    default: false,
  },
  "batch-commit-timing": {
    help: "time the gateway's SQLite commits (bench/lib/sqlite-commit-timing.mjs)",
    default: false,
  },
};
const flags = readFlags("batch-throughput", FLAGS);
const N = flags["batch-n"];
const ROUNDS = flags["batch-rounds"];
const WARMUP = flags["batch-warmup"];
const MEMORY_N = flags["batch-memory-n"];
const MEMORY_S = flags["batch-memory-s"];
const WORKERS = 3;
const CONCURRENCY = flags["batch-concurrency"];
const TOKENS = flags["batch-tokens"];
const PREFETCH = flags["batch-prefetch"];
const COMMIT_TIMING = flags["batch-commit-timing"];
const PROFILE = flags["batch-profile"];
/** other output lengths are recorded beside the default run, not over it */
const NAME = TOKENS === 4 ? "batch-throughput" : `batch-throughput-${TOKENS}t`;

function rssMiB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

function writeInput(path: string, from: number, to: number, maxTokens: number): void {
  const lines: string[] = [];
  for (let i = from; i < to; i++)
    lines.push(
      JSON.stringify({
        custom_id: `r${i}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: {
          model: "tessera-tiny",
          messages: [{ role: "user", content: `request ${i}` }],
          max_tokens: maxTokens,
          temperature: 0,
        },
      }),
    );
  writeFileSync(path, `${lines.join("\n")}\n`);
}

type Side = "direct" | "tessera";

interface Totals {
  seconds: number;
  done: number;
  tokens: number;
  /** CPU seconds by process name, over this side's rounds */
  cpuS: Record<string, number>;
  wallS: number;
  /** other work's CPU seconds on the machine (see lib/cpu.ts) */
  otherS: number;
}

const emptyTotals = (): Totals => ({ seconds: 0, done: 0, tokens: 0, cpuS: {}, wallS: 0, otherS: 0 });

function addWindow(t: Totals, w: CpuWindow): void {
  for (const [name, p] of Object.entries(w.perProcess)) t.cpuS[name] = (t.cpuS[name] ?? 0) + p.cpuS;
  t.wallS += w.wallS;
  t.otherS += w.otherS;
}

function startDirect(model: string, nodeArgs: string[]): Proc[] {
  return Array.from({ length: WORKERS }, (_, w) =>
    spawnScript(
      `direct-${w}`,
      join(REPO, "bench/lib/batch-direct-worker.ts"),
      [model, String(CONCURRENCY), String(TOKENS)],
      { nodeArgs },
    ),
  );
}

/** Requests from..to-1, split evenly over the loaded direct workers. */
async function directRound(workers: Proc[], from: number, to: number): Promise<{ seconds: number; done: number }> {
  const per = Math.ceil((to - from) / workers.length);
  const started = performance.now();
  const replies = workers.map((w) => firstMessage<{ done: number }>(w, 3_600_000));
  workers.forEach((w, i) => {
    w.child.send({ from: from + i * per, to: Math.min(to, from + (i + 1) * per) });
  });
  const reports = await Promise.all(replies);
  return { seconds: (performance.now() - started) / 1000, done: reports.reduce((a, r) => a + r.done, 0) };
}

/** One batch over an input file uploaded beforehand, so that the round times and counts only running it. */
async function tesseraRound(
  batches: BatchClient,
  fileId: string,
): Promise<{ seconds: number; done: number; tokens: number }> {
  const started = performance.now();
  const b = await batches.create(fileId);
  const final = await until(
    "the batch to finish",
    async () => {
      const x = await batches.get(b.id);
      return ["completed", "failed", "cancelled", "expired"].includes(x.status) ? x : undefined;
    },
    3_600_000,
  );
  const seconds = (performance.now() - started) / 1000;
  let tokens = 0;
  if (final.output_file_id) {
    const lines = createInterface({ input: await batches.content(final.output_file_id), crlfDelay: Infinity });
    for await (const line of lines)
      if (line) tokens += (JSON.parse(line) as OutputLine).response?.body.usage?.completion_tokens ?? 0;
  }
  return { seconds, done: final.request_counts.completed, tokens };
}

/** CPU milliseconds per finished request, by role: where the difference between the sides goes. */
function cpuNote(ideal: Totals, tessera: Totals): string {
  const cpuOf = (t: Totals, match: (name: string) => boolean) =>
    Object.entries(t.cpuS)
      .filter(([name]) => match(name))
      .reduce((a, [, s]) => a + s, 0);
  const per = (t: Totals, match: (name: string) => boolean) => (cpuOf(t, match) * 1000) / t.done;
  const coresWhile = (t: Totals, match: (name: string) => boolean) => cpuOf(t, match) / t.wallS;
  const tesseraProc = (n: string) => n === "gateway" || n.startsWith("provider");
  const f = (x: number) => x.toFixed(2);
  const pct = (t: Totals) => f((100 * t.otherS) / (t.wallS * availableParallelism()));
  return (
    `CPU per finished request: direct workers ${f(per(ideal, (n) => n.startsWith("direct")))} ms; through Tessera, ` +
    `providers ${f(per(tessera, (n) => n.startsWith("provider")))} ms, gateway ${f(per(tessera, (n) => n === "gateway"))} ms, ` +
    `bench client ${f(per(tessera, (n) => n === "bench"))} ms. Waiting their turn, the idle Tessera processes used ` +
    `${f(coresWhile(ideal, tesseraProc))} of a core during the direct rounds and the idle direct workers ` +
    `${f(coresWhile(tessera, (n) => n.startsWith("direct")))} during Tessera's. Other work on the machine: ${pct(ideal)}% of its ` +
    `capacity during the direct rounds, ${pct(tessera)}% during Tessera's.`
  );
}

interface OutputLine {
  response?: { body: { usage?: { completion_tokens: number } } };
}

/**
 * A fresh network (new gateway and store, the same 3 providers' set-up), so the baseline is an idle
 * gateway and the growth is the upload's alone. RSS is sampled every 50 ms; "flat" is judged by the
 * peak of the second half of the run against the first.
 */
async function memory(model: string) {
  const net = new TesseraNetwork();
  try {
    await net.startGateway({ args: ["--rate-limit", "0", "--batch-in-flight", "256"] });
    for (let i = 0; i < WORKERS; i++)
      net.startProvider({ concurrency: CONCURRENCY, prefetch: PREFETCH, models: [model], runtimes: ["llm"] });
    await net.waitForProviders(WORKERS);
    const { apiKey } = await net.consumer(10n ** 15n);
    const batches = new BatchClient({ baseUrl: net.url, apiKey });
    const path = join(net.dir, "big.jsonl");
    writeInput(path, 0, MEMORY_N, 1);
    const pid = net.gateway?.child.pid as number;
    const before = rssMiB(pid);
    const samples: number[] = [];
    const timer = setInterval(() => samples.push(rssMiB(pid).rss), 50);
    const file = await batches.upload(path);
    const uploadedAt = samples.length;
    const b = await batches.create(file.id);
    const end = Date.now() + MEMORY_S * 1000;
    let x = await batches.get(b.id);
    while (Date.now() < end && x.status !== "completed") {
      await new Promise((r) => setTimeout(r, 500));
      x = await batches.get(b.id);
    }
    clearInterval(timer);
    await batches.cancel(b.id).catch(() => {});
    const half = Math.floor(samples.length / 2);
    return {
      beforeMiB: before.rss,
      peakMiB: Math.max(before.rss, ...samples),
      uploadPeakMiB: Math.max(before.rss, ...samples.slice(0, uploadedAt + 1)),
      firstHalfPeakMiB: Math.max(...samples.slice(0, half)),
      secondHalfPeakMiB: Math.max(...samples.slice(half)),
      lines: MEMORY_N,
      fileBytes: file.bytes,
      processed: x.request_counts.completed + x.request_counts.failed,
      seconds: MEMORY_S,
      samplesEverySecond: samples.filter((_, i) => i % 20 === 0).map((v) => Math.round(v)),
    };
  } finally {
    await net.stop();
  }
}

const t0 = performance.now();
const net = new TesseraNetwork();
let workers: Proc[] = [];
try {
  const model = await ensureTinyModel(join(net.dir, "models"));
  const ranges = Array.from({ length: ROUNDS }, (_, r) => [
    Math.floor((r * N) / ROUNDS),
    Math.floor(((r + 1) * N) / ROUNDS),
  ]);
  const inputs = ranges.map(([from, to], r) => {
    const path = join(net.dir, `batch-${r}.jsonl`);
    writeInput(path, from as number, to as number, TOKENS);
    return path;
  });

  const profDir = join(net.dir, "profile");
  const profArgs = (who: string) => (PROFILE ? ["--cpu-prof", "--cpu-prof-dir", join(profDir, who)] : []);
  workers = startDirect(model, profArgs("direct"));
  const timingFile = join(net.dir, "commit-timing.json");
  await net.startGateway({
    args: ["--rate-limit", "0", "--batch-in-flight", "256"],
    nodeArgs: [
      ...(COMMIT_TIMING ? ["--import", join(REPO, "bench/lib/sqlite-commit-timing.mjs")] : []),
      ...profArgs("gateway"),
    ],
    ...(COMMIT_TIMING ? { env: { TESSERA_COMMIT_TIMING_FILE: timingFile } } : {}),
  });
  const gatewayPid = net.gateway?.child.pid;
  const directPids = workers.map((w) => w.child.pid);
  // the profile's window: the first measured Tessera round to the last (the gateway idles in between)
  const tesseraSpan = { fromMs: Number.POSITIVE_INFINITY, toMs: 0 };
  const directSpan = { fromMs: Number.POSITIVE_INFINITY, toMs: 0 };
  for (let i = 0; i < WORKERS; i++)
    net.startProvider({
      concurrency: CONCURRENCY,
      prefetch: PREFETCH,
      models: [model],
      runtimes: ["llm"],
      nodeArgs: profArgs("provider"),
    });
  await Promise.all(workers.map((w) => firstMessage(w, 120_000)));
  await net.waitForProviders(WORKERS);
  const providerPids = net.providers.map((p) => p.child.pid);
  const { apiKey } = await net.consumer(10n ** 15n);
  const batches = new BatchClient({ baseUrl: net.url, apiKey });

  if (WARMUP > 0) {
    const warmInput = join(net.dir, "warm-up.jsonl");
    writeInput(warmInput, N, N + WARMUP, TOKENS);
    await directRound(workers, N, N + WARMUP);
    await tesseraRound(batches, (await batches.upload(warmInput)).id);
  }
  const fileIds: string[] = [];
  for (const path of inputs) fileIds.push((await batches.upload(path)).id);
  const totals: Record<Side, Totals> = { direct: emptyTotals(), tessera: emptyTotals() };
  const rounds: { side: Side; requests: number; seconds: number; perSecond: number }[] = [];
  const order = ranges.flatMap((_, r): Side[] => (r % 2 === 0 ? ["direct", "tessera"] : ["tessera", "direct"]));
  const next: Record<Side, number> = { direct: 0, tessera: 0 };
  const bar = startBar("rounds", order.length, "rounds");
  for (const side of order) {
    const r = next[side]++;
    const [from, to] = ranges[r] as [number, number];
    const cpu = cpuWindow(() => ({
      gateway: net.gateway?.child.pid,
      ...Object.fromEntries(net.providers.map((p) => [p.name, p.child.pid])),
      ...Object.fromEntries(workers.map((w) => [w.name, w.child.pid])),
      bench: process.pid,
    }));
    const span = side === "tessera" ? tesseraSpan : directSpan;
    span.fromMs = Math.min(span.fromMs, stamp());
    const res =
      side === "direct"
        ? { ...(await directRound(workers, from, to)), tokens: 0 }
        : await tesseraRound(batches, fileIds[r] as string);
    span.toMs = stamp();
    addWindow(totals[side], cpu.stop());
    totals[side].seconds += res.seconds;
    totals[side].done += res.done;
    totals[side].tokens += res.tokens;
    rounds.push({
      side,
      requests: res.done,
      seconds: Number(res.seconds.toFixed(2)),
      perSecond: Number((res.done / res.seconds).toFixed(1)),
    });
    bar.increment();
  }
  bar.stop();
  stopBars();
  for (const w of workers) w.child.send("exit");
  await Promise.all(workers.map((w) => w.stop(10_000)));
  workers = [];
  await net.stop({ keepDir: true }); // the model file stays for the memory phase
  const commits = COMMIT_TIMING
    ? rounded(summarize(JSON.parse(readFileSync(timingFile, "utf8")) as number[]))
    : undefined;
  if (commits) process.stdout.write(`gateway SQLite commits (whole run): ${JSON.stringify(commits)}\n`);
  const ideal = totals.direct;
  const tessera = totals.tessera;
  const profFile = PROFILE ? mainProfile(join(profDir, "gateway"), gatewayPid) : undefined;
  const profile = profFile ? summarizeProfile(profFile, tesseraSpan, 25, GATEWAY_BUCKETS) : undefined;
  if (profile) process.stderr.write(`\n${profileText("gateway (Tessera rounds)", profile, 20)}\n(raw: ${profFile})\n`);
  // one provider beside one direct worker: the same runtime code, so the difference is the daemon's
  const sides = PROFILE
    ? [
        { who: "provider", dir: "provider", pid: providerPids[0], span: tesseraSpan, requests: tessera.done / WORKERS },
        { who: "direct worker", dir: "direct", pid: directPids[0], span: directSpan, requests: ideal.done / WORKERS },
      ]
    : [];
  const sideSummaries = sides.flatMap((side) => {
    const file = mainProfile(join(profDir, side.dir), side.pid);
    if (!file) return [];
    const s = summarizeProfile(file, side.span, 25);
    process.stderr.write(`\n${profileText(`${side.who} (its rounds)`, s, 20)}\n(raw: ${file})\n`);
    return [{ ...side, s }];
  });

  const mems = MEMORY_N > 0 ? [await memory(model)] : [];

  const tesseraRate = tessera.done / tessera.seconds;
  const idealRate = ideal.done / ideal.seconds;
  const ratio = tesseraRate / idealRate;
  const { command, reproduce } = commandLine("batch-throughput", nonDefaultFlags(FLAGS, flags));
  const file = writeResult({
    bench: NAME,
    title: `${N}-request LLM batch (tessera-tiny, max_tokens ${TOKENS}) through Tessera with ${WORKERS} providers vs ${WORKERS} direct node-llama-cpp worker processes${mems.length ? `; gateway memory streaming a ${MEMORY_N}-line batch` : ""}`,
    date: new Date().toISOString(),
    command,
    reproduce,
    machine: machine(),
    durationS: (performance.now() - t0) / 1000,
    rows: [
      {
        metric: `batch throughput, requests/s (${N} requests)`,
        tessera: tesseraRate.toFixed(1),
        baseline: `${idealRate.toFixed(1)} (direct node-llama-cpp, ${WORKERS} processes)`,
        versus: `${ratio.toFixed(2)}×`,
        bar: "≥ 0.9×",
        result: ratio >= 0.9 ? "pass" : "fail",
      },
      ...mems.map((mem) => ({
        metric: `gateway peak RSS streaming a ${MEMORY_N}-line batch, MiB`,
        tessera: mem.peakMiB.toFixed(0),
        baseline: `${mem.beforeMiB.toFixed(0)} (the same fresh gateway, idle, before the upload)`,
        versus: `+${(mem.peakMiB - mem.beforeMiB).toFixed(0)} MiB`,
        bar: "< 200 MiB",
        result: mem.peakMiB < 200 ? ("pass" as const) : ("fail" as const),
      })),
    ],
    notes: [
      `Each side runs ${WORKERS} processes with ${CONCURRENCY} llama.cpp context(s) each on the same machine; both stay loaded and take turns, after ${WARMUP} unmeasured requests each (--batch-warmup), in ${ROUNDS} rounds each of ${N / ROUNDS} requests (order ${rounds.map((r) => (r.side === "direct" ? "D" : "T")).join(" ")}; --batch-rounds), and each side's rate is its requests over its rounds' time; greedy, the same prompts, max_tokens ${TOKENS} (${tessera.tokens} output tokens through Tessera). Requests per second by round: ${rounds.map((r) => `${r.side === "direct" ? "D" : "T"} ${r.perSecond}`).join(", ")}. Tessera's providers run with --prefetch ${PREFETCH} (--batch-prefetch): ${PREFETCH} batch lease(s) wait on each provider, so a slot starts its next job without the round trip to the gateway.`,
      cpuNote(ideal, tessera),
      ...(profile
        ? ["The gateway ran under --cpu-prof (--batch-profile), which slows it: see the section below."]
        : []),
      ...(commits
        ? [
            `Gateway SQLite COMMIT statements over the whole run (--batch-commit-timing): ${commits.n}, p50 ${commits.p50} ms, p99 ${commits.p99} ms, longest ${commits.max} ms, ${(commits.mean * commits.n).toFixed(1)} ms in all.`,
          ]
        : []),
      ...mems.map(
        (mem) =>
          `Memory: a fresh network (new gateway and store, ${WORKERS} providers); the upload of ${mem.fileBytes} bytes peaked at ${mem.uploadPeakMiB.toFixed(0)} MiB; the batch ran up to ${MEMORY_S} s (${mem.processed} lines finished) and was cancelled. Peak RSS in the first half of the run ${mem.firstHalfPeakMiB.toFixed(0)} MiB, in the second half ${mem.secondHalfPeakMiB.toFixed(0)} MiB; RSS each second: ${mem.samplesEverySecond.join(", ")} MiB.`,
      ),
    ],
    sections: profile
      ? [
          profileSection("Where the gateway's CPU goes (--cpu-prof, Tessera rounds)", profile, {
            unit: "request",
            count: tessera.done,
            scaleTo: ((tessera.cpuS.gateway ?? 0) * 1000) / tessera.done,
          }),
          // the profiler's busy time is the main thread's, on the wall clock (a descheduled
          // thread still counts), and llama.cpp's own threads are not in it
          ...sideSummaries.map(({ who, s, requests }) =>
            profileSection(`Main thread of one ${who} by package (--cpu-prof, its rounds)`, s, {
              unit: "request",
              count: requests,
            }),
          ),
        ]
      : undefined,
    details: {
      ideal,
      tessera,
      rounds,
      memory: mems,
      concurrency: CONCURRENCY,
      prefetch: PREFETCH,
      commits,
      profile,
    },
  });
  process.stdout.write(`${JSON.stringify({ ratio, tesseraRate, idealRate, memory: mems }, null, 2)}\nwrote ${file}\n`);
} finally {
  await Promise.all(workers.map((w) => w.stop(5_000)));
  await net.stop();
}
