// Job throughput: tiny WASM jobs (built-in `reverse` on 32 bytes) end to end through a real
// gateway process and N real provider processes, against BullMQ on a real redis-server with N
// worker processes running the same module on the same WASM runtime. Same machine, same run,
// same job count, same client pattern (a fixed number of jobs in flight, each submitted and
// waited for), alternating segments (Tessera, BullMQ, BullMQ, Tessera, ...) to cancel drift.
// Run: npx tsx bench/job-throughput.ts [--jobs 10000] [--providers 2] [--profile]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type CpuWindow, cpuWindow, waitForQuiet } from "./lib/cpu.js";
import {
  GATEWAY_BUCKETS,
  mainProfile,
  type ProfileSummary,
  profileSection,
  profileText,
  summarizeProfile,
} from "./lib/cpuprofile.js";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import {
  firstMessage,
  freePort,
  type Proc,
  REPO,
  spawnProcess,
  spawnScript,
  TesseraNetwork,
  until,
} from "./lib/network.js";
import { note, startBar, stopBars } from "./lib/progress.js";
import { commandLine, machine, writeResult } from "./lib/results.js";
import { fmt, rounded, type Summary, summarize } from "./lib/stats.js";
import { stamp } from "./lib/trace-types.js";
import { reverseModule } from "./lib/wasm-job.js";

const BENCH = "job-throughput";
const FLAGS = {
  jobs: { help: "measured jobs per system (split over the rounds)", default: 20000 },
  rounds: { help: "segments per system; the order alternates T B B T ...", default: 4 },
  warmup: { help: "warm-up jobs per system before measuring", default: 2000 },
  providers: { help: "Tessera provider processes = BullMQ worker processes", default: 2 },
  concurrency: { help: "jobs run at once per provider / per BullMQ worker", default: 8 },
  inflight: { help: "jobs outstanding at once (all client processes together)", default: 64 },
  clients: { help: "client processes per system", default: 1 },
  transport: { help: "Tessera client HTTP: http (node:http keep-alive) or fetch (global fetch)", default: "http" },
  "commit-stats": {
    help: "run the gateway through bench/lib/traced-gateway.ts and report group-commit sizes",
    default: false,
  },
  profile: { help: "run the gateway under --cpu-prof and print where its CPU went", default: false },
  quiet: { help: "wait until other work uses at most this % of the machine before measuring", default: 30 },
  "quiet-wait": { help: "longest wait for a quiet machine, seconds", default: 90 },
};
const BAR = 1.0;
const AIM = 2.0;
const QUEUE = "tessera-bench-reverse";

type System = "tessera" | "bullmq";
interface ClientResult {
  completed: number;
  failed: number;
  errors: string[];
  firstStart: number;
  lastEnd: number;
  latency: Summary;
}
interface Segment {
  system: System;
  jobs: number;
  completed: number;
  failed: number;
  seconds: number;
  jobsPerS: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  cpu: CpuWindow;
  errors: string[];
}

function startRedis(port: number): Proc {
  return spawnProcess("redis", "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "no",
  ]);
}

/** Runs `jobs` jobs on one system's clients; resolves with the segment's numbers. */
async function segment(
  system: System,
  clients: Proc[],
  jobs: number,
  inflight: number,
  round: string,
  watch: () => Record<string, number | undefined>,
  label: string,
): Promise<Segment> {
  const bar = startBar(label, jobs, "jobs");
  const share = (n: number, i: number) => Math.floor(n / clients.length) + (i < n % clients.length ? 1 : 0);
  const done = new Array<number>(clients.length).fill(0);
  const t0 = performance.now();
  const cpu = cpuWindow(watch);
  const results = await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<ClientResult>((resolve, reject) => {
          const on = (m: { type: string; done?: number } & Partial<ClientResult>) => {
            if (m.type === "progress") {
              done[i] = m.done ?? 0;
              const total = done.reduce((a, b) => a + b, 0);
              const rate = total / ((performance.now() - t0) / 1000);
              bar.update(total, { detail: `${fmt(rate, 0)} jobs/s` });
            } else if (m.type === "result") {
              c.child.off("message", on);
              resolve(m as ClientResult);
            }
          };
          c.child.on("message", on);
          void c.exited.then((code) => reject(new Error(`${c.name} exited (${code}): ${c.output()}`)));
          c.child.send({ type: "run", jobs: share(jobs, i), inflight: share(inflight, i), round });
        }),
    ),
  );
  const usage = cpu.stop();
  const seconds = (Math.max(...results.map((r) => r.lastEnd)) - Math.min(...results.map((r) => r.firstStart))) / 1000;
  const completed = results.reduce((a, r) => a + r.completed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  bar.update(completed + failed, { detail: `${fmt(completed / seconds, 0)} jobs/s` });
  bar.stop();
  // per-client percentiles are merged conservatively: the worst client's
  return {
    system,
    jobs,
    completed,
    failed,
    seconds,
    jobsPerS: completed / seconds,
    latencyP50Ms: Math.max(...results.map((r) => r.latency.p50)),
    latencyP99Ms: Math.max(...results.map((r) => r.latency.p99)),
    cpu: usage,
    errors: results.flatMap((r) => r.errors).slice(0, 5),
  };
}

async function main(): Promise<void> {
  const flags = readFlags(BENCH, FLAGS);
  const started = Date.now();
  const which = await new Promise<boolean>((r) =>
    spawn("redis-server", ["--version"], { stdio: "ignore" })
      .on("exit", (c) => r(c === 0))
      .on("error", () => r(false)),
  );
  if (!which) throw new Error("redis-server not found: apt-get update && apt-get install -y redis-server");

  const mod = await reverseModule();
  const profDir = flags.profile ? mkdtempSync(join(tmpdir(), "tessera-prof-")) : undefined;
  const net = new TesseraNetwork();
  const procs: Proc[] = [];
  let redis: Proc | undefined;
  try {
    note(
      `${BENCH}: starting a gateway, ${flags.providers} providers, redis-server and ${flags.providers} BullMQ workers...`,
    );
    await net.startGateway({
      args: ["--rate-limit", "0"],
      nodeArgs: profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [],
      ...(flags["commit-stats"] ? { traced: { rateLimitPerSecond: 0 } } : {}),
    });
    for (let i = 0; i < flags.providers; i++) net.startProvider({ concurrency: flags.concurrency, runtimes: ["wasm"] });
    const redisPort = await freePort();
    redis = startRedis(redisPort);
    const ping = new Redis({ host: "127.0.0.1", port: redisPort, lazyConnect: true, maxRetriesPerRequest: 1 });
    ping.on("error", () => {}); // refused until redis-server listens; `until` retries
    await until("redis-server", async () => {
      if (redis?.child.exitCode !== null) throw new Error(`redis-server exited: ${redis?.output()}`);
      if (ping.status !== "ready") await ping.connect();
      return (await ping.ping()) === "PONG";
    });
    await ping.flushall();
    ping.disconnect();
    const workers = Array.from({ length: flags.providers }, (_, i) =>
      spawnScript(`bullmq-worker-${i + 1}`, join(import.meta.dirname, "lib/bullmq-worker.ts"), [
        String(redisPort),
        QUEUE,
        String(flags.concurrency),
      ]),
    );
    procs.push(...workers);
    await Promise.all(workers.map((w) => firstMessage(w, 120_000)));
    await net.waitForProviders(flags.providers);

    const consumer = await net.consumer(10n ** 15n);
    const blob = await consumer.client.uploadBlob(mod.bytes);
    if (blob.id !== mod.id) throw new Error(`module id mismatch: ${blob.id} vs ${mod.id}`);
    const clientScript = join(import.meta.dirname, "lib/load-client.ts");
    const tesseraClients = Array.from({ length: flags.clients }, (_, i) =>
      spawnScript(`tessera-client-${i + 1}`, clientScript, [
        JSON.stringify({
          system: "tessera",
          tag: `t${i}`,
          moduleId: mod.id,
          url: net.url,
          apiKey: consumer.apiKey,
          transport: flags.transport,
        }),
      ]),
    );
    const bullClients = Array.from({ length: flags.clients }, (_, i) =>
      spawnScript(`bullmq-client-${i + 1}`, clientScript, [
        JSON.stringify({ system: "bullmq", tag: `b${i}`, moduleId: mod.id, redisPort, queue: QUEUE }),
      ]),
    );
    procs.push(...tesseraClients, ...bullClients);
    await Promise.all([...tesseraClients, ...bullClients].map((c) => firstMessage(c, 60_000)));

    const watch = () => {
      const w: Record<string, number | undefined> = { gateway: net.gateway?.child.pid, redis: redis?.child.pid };
      for (const p of [...net.providers, ...procs]) w[p.name] = p.child.pid;
      return w;
    };
    const clientsOf = (s: System) => (s === "tessera" ? tesseraClients : bullClients);
    const name = (s: System) => (s === "tessera" ? "Tessera" : "BullMQ");

    for (const s of ["tessera", "bullmq"] as const)
      await segment(s, clientsOf(s), flags.warmup, flags.inflight, "warmup", watch, `warm-up ${name(s)}`);

    const quiet = await waitForQuiet(flags.quiet, flags["quiet-wait"]);
    if (flags["commit-stats"]) net.gateway?.child.send({ type: "reset" });
    const perSegment = Math.ceil(flags.jobs / flags.rounds);
    const segments: Segment[] = [];
    let tesseraFrom = Number.POSITIVE_INFINITY;
    let tesseraTo = 0;
    for (let r = 0; r < flags.rounds; r++) {
      if (r > 0) await waitForQuiet(flags.quiet, Math.min(20, flags["quiet-wait"]));
      const order: System[] = r % 2 === 0 ? ["tessera", "bullmq"] : ["bullmq", "tessera"];
      for (const s of order) {
        const from = stamp();
        const seg = await segment(
          s,
          clientsOf(s),
          perSegment,
          flags.inflight,
          `r${r}`,
          watch,
          `round ${r + 1}/${flags.rounds} ${name(s)}`,
        );
        if (s === "tessera") {
          tesseraFrom = Math.min(tesseraFrom, from);
          tesseraTo = stamp();
        }
        segments.push(seg);
      }
    }
    stopBars();

    const commitStats = flags["commit-stats"] && net.gateway ? await groupCommitStats(net.gateway) : undefined;
    if (commitStats) note(`group commits while measuring: ${JSON.stringify(commitStats)}`);
    note("checking the ledger...");
    const ledger = await consumer.client.ledger();
    const finished = await net.finishedCounts();
    const providersView = (await consumer.client.providers()).data.map((p) => ({
      id: p.id.slice(0, 16),
      completed: p.completed,
      failed: p.failed,
    }));

    const total = (s: System) => {
      const segs = segments.filter((x) => x.system === s);
      const completed = segs.reduce((a, x) => a + x.completed, 0);
      const failed = segs.reduce((a, x) => a + x.failed, 0);
      const seconds = segs.reduce((a, x) => a + x.seconds, 0);
      return {
        completed,
        failed,
        seconds,
        jobsPerS: completed / seconds,
        latencyP50Ms: Math.max(...segs.map((x) => x.latencyP50Ms)),
        latencyP99Ms: Math.max(...segs.map((x) => x.latencyP99Ms)),
        coresUsed: coresBy(segs),
        cpuMsPerJob: cpuPerJob(s, segs, completed),
      };
    };
    const t = total("tessera");
    const b = total("bullmq");
    const ratio = t.jobsPerS / b.jobsPerS;
    const pass = ratio >= BAR;

    const pids = { gateway: net.gateway?.child.pid };
    await Promise.all(procs.map((p) => p.stop(5_000)));
    await net.stop();
    await redis.stop();
    let profile: ProfileSummary | undefined;
    if (profDir) {
      const f = mainProfile(profDir, pids.gateway);
      if (f) {
        profile = summarizeProfile(f, { fromMs: tesseraFrom, toMs: tesseraTo }, 25, GATEWAY_BUCKETS);
        process.stderr.write(`\n${profileText("gateway (Tessera segments)", profile, 20)}\n(raw profile: ${f})\n`);
      }
    }

    const m = machine();
    const { command, reproduce } = commandLine(BENCH, nonDefaultFlags(FLAGS, flags));
    const otherPct =
      segments.reduce((a, x) => a + x.cpu.otherPctOfMachine * x.seconds, 0) /
      Math.max(
        1e-9,
        segments.reduce((a, x) => a + x.seconds, 0),
      );
    const otherOf = (sys: System) => {
      const segs = segments.filter((x) => x.system === sys);
      const wall = segs.reduce((a, x) => a + x.seconds, 0);
      return segs.reduce((a, x) => a + x.cpu.otherPctOfMachine * x.seconds, 0) / Math.max(1e-9, wall);
    };
    const perJob = (c: Record<string, number>) =>
      Object.entries(c)
        .map(([k, v]) => `${k} ${fmt(v, 3)}`)
        .join(", ");
    const cores = (c: Record<string, number>) =>
      Object.entries(c)
        .filter(([, v]) => v >= 0.01)
        .map(([k, v]) => `${k} ${fmt(v, 2)}`)
        .join(", ");
    const file = writeResult({
      bench: BENCH,
      title:
        `Job throughput: WASM \`reverse\` on 32 bytes, ${flags.providers} providers × concurrency ${flags.concurrency}, ` +
        `${flags.inflight} jobs in flight — Tessera (gateway + SQLite ledger) vs BullMQ on redis-server`,
      date: new Date().toISOString(),
      command,
      reproduce,
      machine: m,
      durationS: (Date.now() - started) / 1000,
      rows: [
        {
          metric: "jobs/s end to end (submit → result at the client)",
          tessera: fmt(t.jobsPerS, 0),
          baseline: `${fmt(b.jobsPerS, 0)} (BullMQ)`,
          versus: `${fmt(ratio, 2)}×`,
          bar: `≥ ${BAR.toFixed(1)}× (aim ${AIM.toFixed(0)}×)`,
          result: pass ? "pass" : "fail",
        },
        {
          metric: "CPU per job, all processes of the system (ms)",
          tessera: `${fmt(t.cpuMsPerJob.total ?? Number.NaN, 2)} (gateway ${fmt(t.cpuMsPerJob.gateway ?? Number.NaN, 2)})`,
          baseline: `${fmt(b.cpuMsPerJob.total ?? Number.NaN, 2)} (redis-server ${fmt(b.cpuMsPerJob["redis-server"] ?? Number.NaN, 2)})`,
          versus: `${fmt((t.cpuMsPerJob.total ?? Number.NaN) / (b.cpuMsPerJob.total ?? Number.NaN), 2)}×`,
          bar: "—",
          result: "info",
        },
        {
          metric: "job latency under load p50 / p99 (worst client)",
          tessera: `${fmt(t.latencyP50Ms, 1)} / ${fmt(t.latencyP99Ms, 1)} ms`,
          baseline: `${fmt(b.latencyP50Ms, 1)} / ${fmt(b.latencyP99Ms, 1)} ms`,
          versus: "—",
          bar: "—",
          result: "info",
        },
      ],
      sections: profile
        ? [
            profileSection("Where the gateway's CPU goes (--cpu-prof, Tessera segments)", profile, {
              unit: "job",
              count: t.completed,
              scaleTo: t.cpuMsPerJob.gateway,
            }),
          ]
        : [],
      notes: [
        `${flags.jobs} measured jobs per system in ${flags.rounds} segments each, alternating (Tessera, BullMQ, then ` +
          `BullMQ, Tessera, ...), after ${flags.warmup} warm-up jobs each. ${flags.clients} client process(es) per ` +
          `system keep ${flags.inflight} jobs outstanding: each lane submits a job, waits for its result, checks that ` +
          `the output is the input reversed, and submits the next. Throughput = completed jobs / time from the first ` +
          `submit to the last result, summed over the segments.`,
        `Tessera: \`tessera gateway --rate-limit 0 --log-level warn\` (SQLite store) + ${flags.providers} × ` +
          `\`tessera provider --runtimes wasm --concurrency ${flags.concurrency} --log-level warn\`; the client uses the ` +
          `SDK (submitJob, then waitForJob, which long-polls GET /v1/jobs/:id?wait=…): two HTTP requests per job. ` +
          `Every job is escrowed, leased over WebSocket, executed, signed by the provider, verified and settled with ` +
          `double-entry postings, each step committed durably to SQLite (WAL) before anyone hears of it.`,
        `BullMQ ${bullmqVersion()}: redis-server ${redisVersion(redis)} on loopback with persistence off (--save "" ` +
          `--appendonly no), ${flags.providers} worker processes (Worker concurrency ${flags.concurrency}) running the same ` +
          `module on the same runtime (createWasmRuntime, pool of ${flags.concurrency} threads, as the provider builds it); ` +
          `the client uses Queue.add, then job.waitUntilFinished(QueueEvents). BullMQ keeps nothing on disk, settles ` +
          `nothing, signs nothing: the comparison is a durable, metered, verified network against a bare in-memory queue.`,
        `Tessera ${fmt(t.jobsPerS, 0)} jobs/s (${t.completed} completed, ${t.failed} failed, ${fmt(t.seconds, 1)} s), ` +
          `BullMQ ${fmt(b.jobsPerS, 0)} jobs/s (${b.completed} completed, ${b.failed} failed, ${fmt(b.seconds, 1)} s): ` +
          `${fmt(ratio, 2)}× — bar ≥ ${BAR}×: **${pass ? "pass" : "fail"}**, aim ${AIM}×: **${ratio >= AIM ? "met" : "not met"}**. ` +
          `Per segment: ${segments.map((x) => `${x.system} ${fmt(x.jobsPerS, 0)}`).join(", ")} jobs/s.`,
        `CPU per completed job (ms, from /proc, all threads): Tessera ${perJob(t.cpuMsPerJob)}; BullMQ ${perJob(b.cpuMsPerJob)}. ` +
          `Cores used while measuring (CPU seconds / wall seconds): Tessera: ${cores(t.coresUsed)}; BullMQ: ${cores(b.coresUsed)}. ` +
          `The gateway is one Node.js thread: at ${fmt(t.cpuMsPerJob.gateway ?? Number.NaN, 2)} ms per job it cannot pass ` +
          `${fmt(1000 / (t.cpuMsPerJob.gateway ?? Number.NaN), 0)} jobs/s on any number of cores.`,
        `Ledger after the run: invariants ${ledger.ok ? "hold" : `BROKEN: ${ledger.problems.join("; ")}`}; the gateway ` +
          `counts ${finished.completed ?? 0} jobs completed and ${finished.failed ?? 0} failed (warm-up included).`,
        `This machine has ${m.nproc} cores shared by every process of both systems (clients included). Other work ` +
          `on the machine while measuring: ${fmt(otherPct, 1)}% of its CPU capacity on average (Tessera segments ` +
          `${fmt(otherOf("tessera"), 1)}%, BullMQ segments ${fmt(otherOf("bullmq"), 1)}%); it was ${quiet.busyPct}% ` +
          `busy when measuring started${quiet.waitedS > 0 ? ` after a ${quiet.waitedS} s wait` : ""}.`,
        ...(profDir ? ["The gateway ran under --cpu-prof (slower than usual); see details.profile."] : []),
      ],
      details: {
        settings: flags,
        module: { name: "reverse", id: mod.id, inputBytes: 32 },
        tessera: t,
        bullmq: b,
        ratio: Number(ratio.toFixed(3)),
        bar: { ratio: BAR, aim: AIM, pass },
        segments: segments.map((x) => ({
          ...x,
          seconds: Number(x.seconds.toFixed(3)),
          jobsPerS: Number(x.jobsPerS.toFixed(1)),
        })),
        ledger: { ok: ledger.ok, problems: ledger.problems, netDeposited: ledger.netDeposited },
        gatewayJobsFinished: finished,
        providers: providersView,
        quietAtStart: quiet,
        profile,
        commitStats,
        latencyNote: "per-segment latency percentiles are the worst client's",
      },
    });
    process.stdout.write(
      `\n${BENCH}: Tessera ${fmt(t.jobsPerS, 0)} jobs/s, BullMQ ${fmt(b.jobsPerS, 0)} jobs/s → ${fmt(ratio, 2)}× ` +
        `${pass ? "PASS" : "FAIL"} (bar ≥ ${BAR}×); failed: Tessera ${t.failed}, BullMQ ${b.failed}; ledger ` +
        `${ledger.ok ? "ok" : "BROKEN"}\nwrote ${file}\n`,
    );
    if (!ledger.ok || t.failed > 0 || b.failed > 0) process.exitCode = 1;
  } finally {
    stopBars();
    await Promise.all(procs.map((p) => p.stop(5_000)));
    await net.stop().catch(() => {});
    await redis?.stop();
  }
}

/** From the traced gateway: how many commits the measured segments took and how full they were. */
async function groupCommitStats(gateway: Proc) {
  const dump = await new Promise<{ commits: { start: number; end: number; ops: number }[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("traced gateway did not answer")), 30_000);
    const on = (m: { type: string }) => {
      if (m.type !== "traces") return;
      clearTimeout(timer);
      gateway.child.off("message", on);
      resolve(m as { type: string; commits: { start: number; end: number; ops: number }[] });
    };
    gateway.child.on("message", on);
    gateway.child.send({ type: "dump" });
  });
  const c = dump.commits;
  const ops = c.reduce((a, x) => a + x.ops, 0);
  const busy = c.reduce((a, x) => a + (x.end - x.start), 0);
  const sizes = c.map((x) => x.ops).sort((a, b) => a - b);
  // the tail is where a checkpoint run inside a commit shows (see packages/store's sqlite.ts)
  const ms = rounded(summarize(c.map((x) => x.end - x.start)));
  return {
    commits: c.length,
    ops,
    meanOpsPerCommit: Number((ops / Math.max(1, c.length)).toFixed(2)),
    p50OpsPerCommit: sizes[Math.floor(sizes.length / 2)] ?? 0,
    maxOpsPerCommit: sizes.at(-1) ?? 0,
    meanCommitMs: Number((busy / Math.max(1, c.length)).toFixed(3)),
    p50CommitMs: ms.p50,
    p99CommitMs: ms.p99,
    maxCommitMs: ms.max,
    commitMsPerOp: Number((busy / Math.max(1, ops)).toFixed(4)),
    commitTimeS: Number((busy / 1000).toFixed(3)),
  };
}

/** CPU ms per completed job by role (the system's own processes only; all threads included). */
function cpuPerJob(system: System, segs: Segment[], jobs: number): Record<string, number> {
  const roles: [string, RegExp][] =
    system === "tessera"
      ? [
          ["gateway", /^gateway$/],
          ["providers", /^provider-/],
          ["client", /^tessera-client-/],
        ]
      : [
          ["redis-server", /^redis$/],
          ["workers", /^bullmq-worker-/],
          ["client", /^bullmq-client-/],
        ];
  const out: Record<string, number> = {};
  for (const [role, re] of roles) {
    let cpuS = 0;
    for (const seg of segs) for (const [k, v] of Object.entries(seg.cpu.perProcess)) if (re.test(k)) cpuS += v.cpuS;
    out[role] = Number(((1000 * cpuS) / Math.max(1, jobs)).toFixed(3));
  }
  out.total = Number(
    Object.values(out)
      .reduce((a, b) => a + b, 0)
      .toFixed(3),
  );
  return out;
}

/** Mean cores used per process over segments, weighted by segment length. */
function coresBy(segs: Segment[]): Record<string, number> {
  const out: Record<string, number> = {};
  const wall = segs.reduce((a, x) => a + x.cpu.wallS, 0);
  for (const s of segs)
    for (const [k, v] of Object.entries(s.cpu.perProcess)) out[k] = (out[k] ?? 0) + v.cpuS / Math.max(1e-9, wall);
  return out;
}

function bullmqVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO, "node_modules/bullmq/package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "";
  }
}

function redisVersion(redis: Proc | undefined): string {
  const m =
    /v=(\d+\.\d+\.\d+)/.exec(redis?.output() ?? "") ?? /Redis version=(\d+\.\d+\.\d+)/.exec(redis?.output() ?? "");
  return m?.[1] ?? "";
}

await main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    stopBars();
    process.stderr.write(`${BENCH} failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
