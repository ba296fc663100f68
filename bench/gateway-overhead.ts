// Gateway overhead: the same greedy tiny-model chat completions run (a) in-process through
// node-llama-cpp (createLlmRuntime().execute, the no-network ideal) and (b) through a real
// gateway process and one real provider process (concurrency 1) with the official openai
// client, one request at a time, interleaved in alternating blocks so drift hits both alike.
// A third arm sends the same client calls to a stub that answers at once (client + loopback
// HTTP floor). Run: npx tsx bench/gateway-overhead.ts [--requests 600] [--profile]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LlmJobSpec } from "@tessera/protocol";
import { createLlmRuntime, ensureTinyModel } from "@tessera/runtimes";
import OpenAI from "openai";
import { cpuWindow, waitForQuiet } from "./lib/cpu.js";
import { GATEWAY_BUCKETS, mainProfile, profileSection, profileText, summarizeProfile } from "./lib/cpuprofile.js";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import { firstMessage, type Proc, spawnScript, TesseraNetwork } from "./lib/network.js";
import { note, startBar, stopBars } from "./lib/progress.js";
import { commandLine, machine, writeResult } from "./lib/results.js";
import { fmt, rounded, summarize } from "./lib/stats.js";
import { type TraceBreakdown, tracedRun } from "./lib/trace.js";
import { stamp } from "./lib/trace-types.js";

const BENCH = "gateway-overhead";
const FLAGS = {
  requests: { help: "measured requests per arm", default: 600 },
  warmup: { help: "warm-up requests per arm (not measured)", default: 40 },
  block: { help: "requests per arm per block; arms alternate block by block", default: 25 },
  "max-tokens": { help: "max_tokens of every completion", default: 16 },
  floor: { help: "also time the openai client against an instant stub server", default: true },
  trace: { help: "afterwards, a traced gateway+provider run that times each step of a request", default: true },
  "trace-requests": { help: "requests in the traced run", default: 200 },
  "trace-experiment": {
    help: "a second traced run emulating two proposed changes (no chunk frames for non-streaming requests, cached provider KeyObjects)",
    default: true,
  },
  profile: { help: "run gateway and provider under --cpu-prof and print where their CPU went", default: false },
  quiet: { help: "wait until other work uses at most this % of the machine before measuring", default: 30 },
  "quiet-wait": { help: "longest wait for a quiet machine, seconds", default: 90 },
};
const BAR_MS = 3;
const AIM_MS = 1;

const PROMPTS = [
  "Write a haiku about distributed computing.",
  "Explain what a content hash is in one sentence.",
  "List three uses of idle GPUs.",
  "What is double-entry bookkeeping?",
  "Say hello to the network.",
  "Why do audits need stake behind them?",
  "Name a prime number larger than one hundred.",
  "Summarise the rules of chess in a sentence.",
];

type Arm = "direct" | "gateway" | "floor";

async function main(): Promise<void> {
  const flags = readFlags(BENCH, FLAGS);
  const started = Date.now();
  const maxTokens = flags["max-tokens"];
  const modelPath = await ensureTinyModel(join(tmpdir(), "tessera-test-models"));

  note(`${BENCH}: loading the tiny model in-process and starting a gateway and one provider...`);
  const runtime = await createLlmRuntime({ modelPaths: [modelPath] });
  const model = runtime.models()[0]!;
  const profDir = flags.profile ? mkdtempSync(join(tmpdir(), "tessera-prof-")) : undefined;
  const prof = (who: string) => (profDir ? ["--cpu-prof", "--cpu-prof-dir", join(profDir, who)] : []);
  const net = new TesseraNetwork();
  let stub: Proc | undefined;
  try {
    await net.startGateway({ nodeArgs: prof("gateway") });
    net.startProvider({ concurrency: 1, models: [modelPath], runtimes: ["llm"], nodeArgs: prof("provider") });
    await net.waitForProviders(1);
    const consumer = await net.consumer(10n ** 15n);
    const openai = new OpenAI({ baseURL: `${net.url}/v1`, apiKey: consumer.apiKey, maxRetries: 0 });
    let floorClient: OpenAI | undefined;
    if (flags.floor) {
      const s = spawnScript("stub", join(import.meta.dirname, "lib/stub-openai.ts"), []);
      stub = s;
      const { port } = await firstMessage<{ port: number }>(s, 30_000);
      floorClient = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "stub", maxRetries: 0 });
    }

    const spec = (prompt: string): LlmJobSpec => ({
      runtime: "llm",
      model: model.id,
      input: { messages: [{ role: "user", content: prompt }] },
      params: { temperature: 0 },
      limits: { maxOutputTokens: maxTokens },
    });
    const signal = new AbortController().signal;
    const directText = new Map<string, string>();
    const gatewayText = new Map<string, string>();
    const jobIds: string[] = [];
    const chat = (client: OpenAI, prompt: string) =>
      client.chat.completions.create({
        model: model.name,
        messages: [{ role: "user", content: prompt }],
        max_tokens: maxTokens,
        temperature: 0,
      });
    const run: Record<Arm, (prompt: string) => Promise<void>> = {
      direct: async (prompt) => {
        const r = await runtime.execute(spec(prompt), { jobId: "direct", attempt: 1, signal });
        directText.set(prompt, r.output.text);
      },
      gateway: async (prompt) => {
        const r = await chat(openai, prompt);
        gatewayText.set(prompt, r.choices[0]?.message.content ?? "");
        jobIds.push((r as unknown as { tessera: { job_id: string } }).tessera.job_id);
      },
      floor: async (prompt) => {
        await chat(floorClient!, prompt);
      },
    };
    const arms: Arm[] = flags.floor ? ["direct", "gateway", "floor"] : ["direct", "gateway"];
    const samples: Record<Arm, number[]> = { direct: [], gateway: [], floor: [] };

    const warm = startBar("warm-up", flags.warmup * arms.length, "requests");
    let k = 0;
    for (const arm of arms)
      for (let i = 0; i < flags.warmup; i++) {
        await run[arm](PROMPTS[k++ % PROMPTS.length]!);
        warm.increment();
      }
    warm.stop();
    jobIds.length = 0;

    const quiet = await waitForQuiet(flags.quiet, flags["quiet-wait"]);
    const cpu = cpuWindow(() => ({
      bench: process.pid,
      gateway: net.gateway?.child.pid,
      provider: net.providers[0]?.child.pid,
      stub: stub?.child.pid,
    }));
    const measuredFrom = stamp();
    const bar = startBar("interleaved blocks", flags.requests * arms.length, "requests");
    const blocks = Math.ceil(flags.requests / flags.block);
    const blockAdded: number[] = [];
    for (let b = 0; b < blocks; b++) {
      const order = b % 2 === 0 ? arms : [...arms].reverse();
      const n = Math.min(flags.block, flags.requests - b * flags.block);
      const inBlock: Record<Arm, number[]> = { direct: [], gateway: [], floor: [] };
      for (const arm of order) {
        for (let i = 0; i < n; i++) {
          const prompt = PROMPTS[(b * flags.block + i) % PROMPTS.length]!;
          const t0 = performance.now();
          await run[arm](prompt);
          const dt = performance.now() - t0;
          samples[arm].push(dt);
          inBlock[arm].push(dt);
          bar.increment();
        }
      }
      blockAdded.push(summarize(inBlock.gateway).p50 - summarize(inBlock.direct).p50);
      const d = summarize(samples.direct).p50;
      const g = summarize(samples.gateway).p50;
      bar.update(samples.direct.length + samples.gateway.length + samples.floor.length, {
        detail: `p50 direct ${fmt(d)} ms, gateway ${fmt(g)} ms, added ${fmt(g - d)} ms`,
      });
    }
    bar.stop();
    const contention = cpu.stop();
    const measuredTo = stamp();
    stopBars();

    // Where the gateway time went, from the jobs' own timestamps (ms resolution, so means only).
    note("reading back the measured jobs and checking the ledger...");
    const trail = {
      submitToLeaseMs: [] as number[],
      leaseToResultMs: [] as number[],
      clientMinusJobMs: [] as number[],
    };
    const sampleIds = jobIds.slice(-Math.min(jobIds.length, 200));
    const gatewayByJob = samples.gateway.slice(-sampleIds.length);
    for (const [i, id] of sampleIds.entries()) {
      const j = await consumer.client.getJob(id);
      if (j.startedAt === null || j.finishedAt === null) continue;
      trail.submitToLeaseMs.push(j.startedAt - j.createdAt);
      trail.leaseToResultMs.push(j.finishedAt - j.startedAt);
      trail.clientMinusJobMs.push(gatewayByJob[i]! - (j.finishedAt - j.createdAt));
    }
    const ledger = await consumer.client.ledger();
    const finished = await net.finishedCounts();

    const mismatched = PROMPTS.filter((p) => directText.has(p) && gatewayText.get(p) !== directText.get(p));
    const s = {
      direct: summarize(samples.direct),
      gateway: summarize(samples.gateway),
      floor: flags.floor ? summarize(samples.floor) : undefined,
    };
    const rps = (xs: number[]) => (1000 * xs.length) / xs.reduce((a, b) => a + b, 0);
    const directRps = rps(samples.direct);
    const gatewayRps = rps(samples.gateway);
    const addedP50 = s.gateway.p50 - s.direct.p50;
    const addedP99 = s.gateway.p99 - s.direct.p99;
    const addedMean = s.gateway.mean - s.direct.mean;
    const floorP50 = s.floor?.p50;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const breakdown = {
      jobsSampled: trail.submitToLeaseMs.length,
      meanSubmitToLeaseMs: Number(mean(trail.submitToLeaseMs).toFixed(2)),
      meanLeaseToResultMs: Number(mean(trail.leaseToResultMs).toFixed(2)),
      meanDirectExecuteMs: Number(s.direct.mean.toFixed(2)),
      meanClientOutsideJobMs: Number(mean(trail.clientMinusJobMs).toFixed(2)),
    };

    const profiles: Record<string, ReturnType<typeof summarizeProfile>> = {};
    const pids = { gateway: net.gateway?.child.pid, provider: net.providers[0]?.child.pid };
    await net.stop({ keepDir: false });
    if (profDir)
      for (const who of ["gateway", "provider"] as const) {
        const f = mainProfile(join(profDir, who), pids[who]);
        if (!f) continue;
        profiles[who] = summarizeProfile(
          f,
          { fromMs: measuredFrom, toMs: measuredTo },
          25,
          who === "gateway" ? GATEWAY_BUCKETS : undefined,
        );
        process.stderr.write(`\n${profileText(who, profiles[who])}\n(raw profile: ${f})\n`);
      }

    let trace: TraceBreakdown | undefined;
    let experiment: TraceBreakdown | undefined;
    let traceDirectP50 = s.direct.p50;
    if (flags.trace) {
      await waitForQuiet(flags.quiet, Math.min(30, flags["quiet-wait"]));
      note(
        "traced run: the same requests through startGateway/startProvider with a timestamp at each step" +
          (flags["trace-experiment"] ? ", beside a second stack emulating two proposed changes" : "") +
          ", interleaved with the direct arm...",
      );
      const traced = await tracedRun({
        modelPath,
        modelName: model.name,
        requests: flags["trace-requests"],
        warmup: Math.min(20, flags.warmup),
        block: flags.block,
        maxTokens,
        prompts: PROMPTS,
        variants: [
          { name: "as is" },
          ...(flags["trace-experiment"]
            ? [{ name: "emulated", providerEnv: { TRACE_NO_CHUNKS: "1" }, gatewayEnv: { TRACE_CACHE_KEYS: "1" } }]
            : []),
        ],
        direct: async (prompt) => void (await run.direct(prompt)),
      });
      stopBars();
      trace = traced.variants[0]?.breakdown;
      experiment = traced.variants[1]?.breakdown;
      traceDirectP50 = traced.directP50Ms ?? traceDirectP50;
      if (trace) process.stderr.write(`\n${traceText(trace, traceDirectP50)}\n`);
      if (experiment)
        process.stderr.write(`\nwith the two changes emulated:\n${traceText(experiment, traceDirectP50)}\n`);
    }
    await runtime.close();

    const m = machine();
    const pass = addedP50 <= BAR_MS;
    const blockwiseAddedP50 = summarize(blockAdded).p50;
    const { command, reproduce } = commandLine(BENCH, nonDefaultFlags(FLAGS, flags));
    const ms = (x: number) => `${fmt(x)} ms`;
    const file = writeResult({
      bench: BENCH,
      title:
        `Gateway overhead: tiny-model chat completions (greedy, max_tokens ${maxTokens}), sequential, ` +
        `in-process node-llama-cpp vs openai client → gateway → 1 provider (concurrency 1)`,
      date: new Date().toISOString(),
      command,
      reproduce,
      machine: m,
      durationS: (Date.now() - started) / 1000,
      rows: [
        {
          metric: "added latency p50 (gateway − direct)",
          tessera: ms(s.gateway.p50),
          baseline: ms(s.direct.p50),
          versus: `+${ms(addedP50)}`,
          bar: `≤ ${BAR_MS} ms (aim ≤ ${AIM_MS} ms; LiteLLM documents 3.25 ms)`,
          result: pass ? "pass" : "fail",
        },
        {
          metric: "added latency p99 (gateway − direct)",
          tessera: ms(s.gateway.p99),
          baseline: ms(s.direct.p99),
          versus: `+${ms(addedP99)}`,
          bar: "—",
          result: "info",
        },
        {
          metric: "sequential throughput, req/s",
          tessera: fmt(gatewayRps, 1),
          baseline: fmt(directRps, 1),
          versus: `${fmt(gatewayRps / directRps, 3)}×`,
          bar: "—",
          result: "info",
        },
      ],
      notes: [
        `${samples.direct.length} measured requests per arm after ${flags.warmup} warm-up requests each, in alternating blocks ` +
          `of ${flags.block} (direct, gateway${flags.floor ? ", stub" : ""}, then reversed), the same ${PROMPTS.length} fixed prompts in both arms.`,
        `Direct: createLlmRuntime({ modelPaths: [tiny] }).execute() in the bench process, default threads (1 for the ` +
          `${(model.parameters / 1e6).toFixed(2)} M-parameter tiny model), no network. Gateway: \`tessera gateway\` ` +
          `(default settings, --log-level warn) + one \`tessera provider --concurrency 1 --runtimes llm\`, called with the ` +
          `official openai client (non-streaming chat.completions.create); every request is escrowed, leased, signed, ` +
          `verified and settled on the SQLite ledger before it is answered.`,
        `Latency p50 / p99: direct ${ms(s.direct.p50)} / ${ms(s.direct.p99)}, gateway ${ms(s.gateway.p50)} / ` +
          `${ms(s.gateway.p99)}; added p50 ${ms(addedP50)}, p99 ${ms(addedP99)}, mean ${ms(addedMean)}. ` +
          `Bar: added p50 ≤ ${BAR_MS} ms: **${pass ? "pass" : "fail"}**; aim ≤ ${AIM_MS} ms: **${addedP50 <= AIM_MS ? "met" : "not met"}**.`,
        ...(floorP50 !== undefined
          ? [
              `Floor: the same openai client against a stub HTTP process that answers at once takes p50 ${ms(floorP50)} ` +
                `(p99 ${ms(s.floor!.p99)}); that much of the added latency is client and loopback HTTP, not the gateway.`,
            ]
          : []),
        `From the jobs' own timestamps (ms resolution, mean of the last ${breakdown.jobsSampled}): submit→lease ` +
          `${ms(breakdown.meanSubmitToLeaseMs)}, lease→settled result ${ms(breakdown.meanLeaseToResultMs)} (direct execute ` +
          `${ms(breakdown.meanDirectExecuteMs)}), client time outside submit→settle ${ms(breakdown.meanClientOutsideJobMs)}.`,
        `Paired by block (median over the ${blockAdded.length} blocks of gateway p50 − direct p50 within the block, ` +
          `robust to drift between blocks): ${ms(blockwiseAddedP50)}.`,
        ...(trace ? traceNotes(trace, traceDirectP50, experiment) : []),
        `Outputs identical between the arms for every prompt (greedy decoding): ${mismatched.length === 0 ? "yes" : `NO (${mismatched.length} differ)`}.`,
        `Ledger after the run: invariants ${ledger.ok ? "hold" : `BROKEN: ${ledger.problems.join("; ")}`}; gateway jobs ` +
          `completed ${finished.completed ?? 0}, failed ${finished.failed ?? 0}.`,
        `This machine has ${m.nproc} cores: in the gateway arm the client, the gateway, the provider and the model ` +
          `all share them, while the direct arm is one process; cross-process wake-ups on a busy 2-core VM cost more ` +
          `than on a larger host.`,
        `Other work on the machine during the measured blocks: ${fmt(contention.otherPctOfMachine, 1)}% of its CPU ` +
          `capacity (hypervisor steal ${fmt(contention.stealPct, 1)}%); it was ${quiet.busyPct}% busy when measuring ` +
          `started${quiet.waitedS > 0 ? ` after waiting ${quiet.waitedS} s for it to quieten` : ""}. Bench processes used ` +
          `${Object.entries(contention.perProcess)
            .map(([k, v]) => `${k} ${fmt(v.coresUsed, 2)}`)
            .join(", ")} cores.`,
        ...(profDir ? ["Run under --cpu-prof (profiling slows every process; compare with an unprofiled run)."] : []),
      ],
      sections: [
        ...(trace ? [traceSection(trace, traceDirectP50, experiment)] : []),
        ...(profiles.gateway
          ? [
              profileSection("Where the gateway's CPU goes (--cpu-prof, measured blocks)", profiles.gateway, {
                unit: "request",
                count: samples.gateway.length,
                scaleTo: ((contention.perProcess.gateway?.cpuS ?? 0) * 1000) / Math.max(1, samples.gateway.length),
              }),
            ]
          : []),
      ],
      details: {
        model: { name: model.name, id: model.id, parameters: model.parameters },
        maxTokens,
        latencyMs: { direct: rounded(s.direct), gateway: rounded(s.gateway), floor: s.floor && rounded(s.floor) },
        throughputRps: { direct: Number(directRps.toFixed(2)), gateway: Number(gatewayRps.toFixed(2)) },
        addedMs: {
          p50: Number(addedP50.toFixed(3)),
          p99: Number(addedP99.toFixed(3)),
          mean: Number(addedMean.toFixed(3)),
        },
        bar: { addedP50Ms: BAR_MS, aimMs: AIM_MS, pass },
        breakdown,
        blockwiseAddedP50Ms: Number(blockwiseAddedP50.toFixed(3)),
        trace,
        traceExperiment: experiment,
        traceDirectP50Ms: traceDirectP50,
        contention,
        quietAtStart: quiet,
        outputsIdentical: mismatched.length === 0,
        ledger: { ok: ledger.ok, problems: ledger.problems },
        jobsFinished: finished,
        profiled: Boolean(profDir),
        profiles,
      },
    });
    process.stdout.write(
      `\n${BENCH}: direct p50 ${ms(s.direct.p50)} p99 ${ms(s.direct.p99)} (${fmt(directRps, 1)} req/s); gateway p50 ` +
        `${ms(s.gateway.p50)} p99 ${ms(s.gateway.p99)} (${fmt(gatewayRps, 1)} req/s); added p50 ${ms(addedP50)} ` +
        `p99 ${ms(addedP99)} → ${pass ? "PASS" : "FAIL"} (bar ≤ ${BAR_MS} ms)` +
        (floorP50 !== undefined ? `; client+HTTP floor p50 ${ms(floorP50)}` : "") +
        `\nledger ${ledger.ok ? "ok" : "BROKEN"}; wrote ${file}\n`,
    );
    if (!ledger.ok) process.exitCode = 1;
  } finally {
    stopBars();
    await stub?.stop(2_000);
    await net.stop().catch(() => {});
  }
}

function traceText(t: TraceBreakdown, directP50: number): string {
  const lines = [
    `traced run (${t.requests} requests): p50 per step, ms (total p50 ${fmt(t.totalP50Ms)} ms; direct execute p50 ${fmt(directP50)} ms)`,
  ];
  for (const p of t.phases) lines.push(`  ${fmt(p.p50Ms, 3).padStart(8)}  ${p.where.padEnd(8)} ${p.phase}`);
  for (const c of t.commits)
    lines.push(
      `  commit of '${c.status}' writes: queue wait ${fmt(c.queueWaitMeanMs, 3)} ms, commit ${fmt(c.commitMeanMs, 3)} ms (mean), batch ${fmt(c.meanBatch, 1)}`,
    );
  lines.push(`  chunk frames per job: ${fmt(t.chunksPerJob, 1)}`);
  return lines.join("\n");
}

/** The traced run, summed up for the notes: what is not executing, and the commits. */
function traceNotes(t: TraceBreakdown, directP50: number, x?: TraceBreakdown): string[] {
  const exec = t.phases.find((p) => p.where === "provider");
  const restSum = t.phases.filter((p) => p.where !== "provider").reduce((a, p) => a + p.p50Ms, 0);
  const notes = [
    `Traced run (${t.requests} sequential requests through startGateway/startProvider with every step stamped on ` +
      `the host's monotonic clock, in blocks alternating with the direct arm; total p50 ${fmt(t.totalP50Ms)} ms; ` +
      `table below): the steps other than executing sum to ${fmt(restSum)} ms at p50, and the provider's execute ` +
      `took ${fmt(exec?.p50Ms ?? Number.NaN)} ms against ${fmt(directP50)} ms in-process. Commits: ` +
      t.commits
        .map((c) => `'${c.status}' ${fmt(c.commitMeanMs, 3)} ms (queue wait ${fmt(c.queueWaitMeanMs, 3)} ms)`)
        .join(", ") +
      `; ${fmt(t.chunksPerJob, 1)} chunk frames per job, though no request streamed.`,
  ];
  if (x)
    notes.push(
      `A second traced stack, run in the same alternating blocks, emulates two changes (the provider sends no ` +
        `chunk frames for a non-streaming request; the gateway reuses each provider's KeyObject instead of building ` +
        `it for every signature check): total p50 ${fmt(t.totalP50Ms)} → ${fmt(x.totalP50Ms)} ms, provider execute ` +
        `${fmt(exec?.p50Ms ?? Number.NaN)} → ${fmt(x.phases.find((p) => p.where === "provider")?.p50Ms ?? Number.NaN)} ms, ` +
        `result → settled ${fmt(settleStep(t) ?? Number.NaN, 3)} → ${fmt(settleStep(x) ?? Number.NaN, 3)} ms.`,
    );
  return notes;
}

const settleStep = (t: TraceBreakdown) => t.phases.find((p) => p.phase.startsWith("result →"))?.p50Ms;

function traceSection(t: TraceBreakdown, directP50: number, x?: TraceBreakdown): { title: string; lines: string[] } {
  const lines = [
    `| step | where | p50 ms${x ? " | p50 ms, with the two changes emulated" : ""} |`,
    `|---|---|---${x ? "|---" : ""}|`,
  ];
  for (const [i, p] of t.phases.entries())
    lines.push(
      `| ${p.phase} | ${p.where} | ${fmt(p.p50Ms, 3)}${x ? ` | ${fmt(x.phases[i]?.p50Ms ?? Number.NaN, 3)}` : ""} |`,
    );
  lines.push(
    `| **total (client sends → client has the answer)** | | **${fmt(t.totalP50Ms, 3)}**${x ? ` | **${fmt(x.totalP50Ms, 3)}**` : ""} |`,
  );
  lines.push(
    `| (direct arm, interleaved with the traced requests: execute in-process) | bench | ${fmt(directP50, 3)}${x ? " | " : ""} |`,
  );
  lines.push(
    "",
    "Steps are medians of per-request differences between stamps taken in the client, the gateway and the " +
      "provider processes (process.hrtime, one clock for the host); medians of steps need not add up to the median " +
      "total. Commits carry one job each here (sequential requests).",
  );
  return { title: "Where a request's time goes (traced run)", lines };
}

await main().then(
  () => process.exit(process.exitCode ?? 0), // node-llama-cpp can keep native threads alive
  (e: unknown) => {
    stopBars();
    process.stderr.write(`${BENCH} failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
