// The traced run of the gateway-overhead bench: a gateway and a provider started through their
// real entry points (startGateway, startProvider) with timestamps at each step of a request,
// then sequential chat completions, then the time between steps: where the added latency goes.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TesseraClient } from "@tessera/sdk";
import OpenAI from "openai";
import { firstMessage, freePort, type Proc, spawnScript, until } from "./network.js";
import { startBar } from "./progress.js";
import { summarize } from "./stats.js";
import { type JobTrace, stamp } from "./trace-types.js";

export interface Phase {
  phase: string;
  where: "client" | "gateway" | "provider" | "wire";
  p50Ms: number;
  meanMs: number;
}

export interface TraceBreakdown {
  requests: number;
  totalP50Ms: number;
  totalMeanMs: number;
  phases: Phase[];
  commits: { status: string; queueWaitMeanMs: number; commitMeanMs: number; commitP50Ms: number; meanBatch: number }[];
  chunksPerJob: number;
}

function ask<T>(proc: Proc, type: string, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${proc.name} did not answer ${type}`)), 30_000);
    const on = (m: { type: string }) => {
      if (m.type !== reply) return;
      clearTimeout(timer);
      proc.child.off("message", on);
      resolve(m as T);
    };
    proc.child.on("message", on);
    proc.child.send({ type });
  });
}

const PHASES: [string, Phase["where"], keyof JobTrace, keyof JobTrace][] = [
  ["client sends → gateway receives the HTTP request (openai client, loopback)", "client", "clientSend", "httpIn"],
  [
    "HTTP request → engine.submit (Fastify routing, JSON, rate limit, auth, zod, spec)",
    "gateway",
    "httpIn",
    "submitCall",
  ],
  ["submit: escrow written and committed (group-writer queue + SQLite commit)", "gateway", "submitCall", "submitDone"],
  ["submitted → lease frame sent (schedule tick; the lease commits beside it)", "gateway", "submitDone", "leaseSent"],
  ["lease frame → provider starts executing (WebSocket, provider lease handling)", "wire", "leaseSent", "execStart"],
  ["provider executes (node-llama-cpp, same runtime as the direct arm)", "provider", "execStart", "execEnd"],
  ["executed → result at the gateway engine (hash, sign, zod, WebSocket, parse, zod)", "wire", "execEnd", "resultIn"],
  ["result → settled (hash + signature check, settle commit)", "gateway", "resultIn", "settled"],
  ["settled → HTTP response built and ended (waiter wake-up, body, serialise)", "gateway", "settled", "httpOut"],
  [
    "response ended → its bytes written to the socket (work queued before Node's uncork)",
    "gateway",
    "httpOut",
    "httpFlushed",
  ],
  ["response written → client has it (loopback, openai client parse)", "client", "httpFlushed", "clientRecv"],
];

export interface TraceVariant {
  name: string;
  /** e.g. { TRACE_NO_CHUNKS: "1" } */
  providerEnv?: NodeJS.ProcessEnv;
  /** e.g. { TRACE_CACHE_KEYS: "1" } */
  gatewayEnv?: NodeJS.ProcessEnv;
}

interface Stack {
  variant: TraceVariant;
  dir: string;
  gateway: Proc;
  provider: Proc;
  chat(prompt: string): Promise<string>;
  client: Map<string, { clientSend: number; clientRecv: number }>;
}

/** A traced gateway and provider on their own port and database, plus a consumer to call them. */
async function startStack(
  variant: TraceVariant,
  opts: { modelPath: string; modelName: string; maxTokens: number },
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-trace-"));
  const adminKey = randomBytes(24).toString("base64url");
  const port = await freePort();
  const here = import.meta.dirname;
  const gateway = spawnScript(
    `traced-gateway (${variant.name})`,
    join(here, "traced-gateway.ts"),
    [JSON.stringify({ port, host: "127.0.0.1", db: join(dir, "gateway.db"), adminKey, logLevel: "warn" })],
    { env: variant.gatewayEnv },
  );
  await firstMessage(gateway, 60_000);
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(join(dir, "provider"), { recursive: true });
  const provider = spawnScript(
    `traced-provider (${variant.name})`,
    join(here, "traced-provider.ts"),
    [
      JSON.stringify({
        gateway: `ws://127.0.0.1:${port}`,
        keyFile: join(dir, "provider", "node.key"),
        region: "bench-1",
        price: 50,
        models: [opts.modelPath],
        concurrency: 1,
        runtimes: ["llm"],
        dataDir: join(dir, "provider"),
        logLevel: "warn",
      }),
    ],
    { env: variant.providerEnv },
  );
  await firstMessage(provider, 120_000);
  const admin = new TesseraClient({ baseUrl: url, adminKey });
  await until("the traced provider", async () => (await admin.health()).providers >= 1, 60_000);
  const consumer = await admin.createConsumer("trace", 10n ** 15n);
  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: consumer.apiKey, maxRetries: 0 });
  const chat = async (prompt: string) => {
    const r = await openai.chat.completions.create({
      model: opts.modelName,
      messages: [{ role: "user", content: prompt }],
      max_tokens: opts.maxTokens,
      temperature: 0,
    });
    return (r as unknown as { tessera: { job_id: string } }).tessera.job_id;
  };
  return { variant, dir, gateway, provider, chat, client: new Map() };
}

export interface TracedRun {
  variants: { name: string; breakdown: TraceBreakdown }[];
  /** p50 of the in-process execute interleaved with the traced requests, when one was given */
  directP50Ms?: number;
}

/**
 * Runs each variant's traced stack at once and sends them (and `direct`, the in-process
 * execute, when given) the same sequential requests in alternating blocks, so that load from
 * other work on the machine hits every variant alike.
 */
export async function tracedRun(opts: {
  modelPath: string;
  modelName: string;
  requests: number;
  warmup: number;
  block: number;
  maxTokens: number;
  prompts: string[];
  variants: TraceVariant[];
  direct?: (prompt: string) => Promise<void>;
}): Promise<TracedRun> {
  const stacks: Stack[] = [];
  try {
    for (const v of opts.variants) stacks.push(await startStack(v, opts));
    for (const st of stacks)
      for (let i = 0; i < opts.warmup; i++) await st.chat(opts.prompts[i % opts.prompts.length]!);
    for (const st of stacks) {
      st.provider.child.send({ type: "reset" });
      st.gateway.child.send({ type: "reset" });
    }
    type Arm = { run: (prompt: string) => Promise<void> };
    const directMs: number[] = [];
    const arms: Arm[] = stacks.map((st) => ({
      run: async (prompt) => {
        const clientSend = stamp();
        const id = await st.chat(prompt);
        st.client.set(id, { clientSend, clientRecv: stamp() });
      },
    }));
    const direct = opts.direct;
    if (direct)
      arms.unshift({
        run: async (prompt) => {
          const t0 = stamp();
          await direct(prompt);
          directMs.push(stamp() - t0);
        },
      });
    const bar = startBar("traced requests", opts.requests * arms.length, "requests");
    for (let b = 0; b * opts.block < opts.requests; b++) {
      const n = Math.min(opts.block, opts.requests - b * opts.block);
      for (const arm of b % 2 === 0 ? arms : [...arms].reverse())
        for (let i = 0; i < n; i++) {
          await arm.run(opts.prompts[(b * opts.block + i) % opts.prompts.length]!);
          bar.increment();
        }
    }
    bar.stop();
    const variants: TracedRun["variants"] = [];
    for (const st of stacks) {
      const g = await ask<{ traces: JobTrace[] }>(st.gateway, "dump", "traces");
      const p = await ask<{ execs: { jobId: string; execStart: number; execEnd?: number }[] }>(
        st.provider,
        "dump",
        "execs",
      );
      const execs = new Map(p.execs.map((e) => [e.jobId, e]));
      const joined = g.traces
        .filter((t) => st.client.has(t.jobId))
        .map((t) => ({ ...t, ...st.client.get(t.jobId), ...execs.get(t.jobId) }) as JobTrace);
      variants.push({ name: st.variant.name, breakdown: breakdown(joined) });
    }
    return { variants, ...(directMs.length ? { directP50Ms: summarize(directMs).p50 } : {}) };
  } finally {
    for (const st of stacks) {
      await st.provider.stop(5_000);
      await st.gateway.stop(5_000);
      rmSync(st.dir, { recursive: true, force: true });
    }
  }
}

function breakdown(traces: JobTrace[]): TraceBreakdown {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const complete = traces.filter((t) => PHASES.every(([, , a, b]) => t[a] !== undefined && t[b] !== undefined));
  const phases = PHASES.map(([phase, where, a, b]) => {
    const s = summarize(complete.map((t) => (t[b] as number) - (t[a] as number)));
    return { phase, where, p50Ms: r(s.p50), meanMs: r(s.mean) };
  });
  const total = summarize(complete.map((t) => t.clientRecv! - t.clientSend!));
  const byStatus = new Map<string, { wait: number[]; commit: number[]; batch: number[] }>();
  for (const t of complete)
    for (const w of t.writes) {
      if (w.commitStart === undefined || w.commitEnd === undefined) continue;
      const e = byStatus.get(w.status) ?? { wait: [], commit: [], batch: [] };
      e.wait.push(w.commitStart - w.enqueued);
      e.commit.push(w.commitEnd - w.commitStart);
      e.batch.push(w.batch ?? 1);
      byStatus.set(w.status, e);
    }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    requests: complete.length,
    totalP50Ms: r(total.p50),
    totalMeanMs: r(total.mean),
    phases,
    commits: [...byStatus].map(([status, e]) => ({
      status,
      queueWaitMeanMs: r(mean(e.wait)),
      commitMeanMs: r(mean(e.commit)),
      commitP50Ms: r(summarize(e.commit).p50),
      meanBatch: r(mean(e.batch)),
    })),
    chunksPerJob: r(mean(complete.map((t) => t.chunks))),
  };
}
