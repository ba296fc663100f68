// The demo workload of `tessera up --demo`: real chat completions through the official openai
// client and real WASM jobs through the SDK, with a progress bar and a per-provider summary: what
// consumers were billed for each node's jobs, and what the ledger credited the node meanwhile
// (billed minus the protocol fee, plus audit fees for a verifier).
import { loadBuiltinModule } from "@tessera/runtimes";
import type { JobView, ProviderInfo, TesseraClient } from "@tessera/sdk";
import cliProgress from "cli-progress";
import OpenAI from "openai";

const PROMPTS = [
  "Write a haiku about distributed computing.",
  "Explain what a content hash is in one sentence.",
  "List three uses of idle GPUs.",
  "What is double-entry bookkeeping?",
  "Say hello to the network.",
  "Why do audits need stake behind them?",
];

const WASM_INPUTS: { module: "reverse" | "wordcount" | "primes"; input: string }[] = [
  { module: "reverse", input: "tessera: verifiable compute" },
  { module: "wordcount", input: "the quick brown fox jumps over the lazy dog" },
  { module: "primes", input: "200000" },
];

interface Outcome {
  kind: "chat" | "wasm";
  ok: boolean;
  provider: string | null;
  tokens: number;
  cost: bigint;
  error?: string;
}

export interface DemoSummary {
  outcomes: Outcome[];
  perProvider: { id: string; region: string; jobs: number; tokens: number; cost: bigint; earned: bigint }[];
}

/** Each provider's earnings account (`provider:<id>:earnings`) in the gateway's ledger report. */
async function earnings(client: TesseraClient): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const [name, balance] of Object.entries((await client.ledger()).accounts)) {
    const m = /^provider:([0-9a-f]{64}):earnings$/.exec(name);
    if (m) out.set(m[1] as string, BigInt(balance));
  }
  return out;
}

export async function runDemo(opts: {
  gateway: string;
  apiKey: string;
  client: TesseraClient;
  chats: number;
  wasmJobs: number;
  model: string;
}): Promise<DemoSummary> {
  const openai = new OpenAI({ baseURL: `${opts.gateway}/v1`, apiKey: opts.apiKey, maxRetries: 0 });
  const bar = new cliProgress.SingleBar(
    {
      format: " demo |{bar}| {value}/{total} jobs | failed {failed} | {eta_formatted} left",
      hideCursor: true,
      // Ctrl-C (which `up` answers by stopping the network) gives the terminal its cursor back
      gracefulExit: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const outcomes: Outcome[] = [];
  const earnedBefore = await earnings(opts.client);
  bar.start(opts.chats + opts.wasmJobs, 0, { failed: 0 });
  const record = (o: Outcome) => {
    outcomes.push(o);
    bar.increment(1, { failed: outcomes.filter((x) => !x.ok).length });
  };

  const moduleIds = new Map<string, string>();
  for (const w of WASM_INPUTS)
    moduleIds.set(w.module, (await opts.client.uploadBlob(await loadBuiltinModule(w.module))).id);

  const chats = Array.from({ length: opts.chats }, async (_, i) => {
    const prompt = PROMPTS[i % PROMPTS.length]!;
    try {
      if (i % 3 === 0) {
        const stream = await openai.chat.completions.create({
          model: opts.model,
          messages: [{ role: "user", content: prompt }],
          max_tokens: 32,
          temperature: 0,
          stream: true,
          stream_options: { include_usage: true },
        });
        let tokens = 0;
        let extra: { job_id?: string } | undefined;
        for await (const chunk of stream) {
          if (chunk.usage) {
            tokens = chunk.usage.completion_tokens;
            extra = (chunk as unknown as { tessera?: { job_id: string } }).tessera;
          }
        }
        const job = extra?.job_id ? await opts.client.getJob(extra.job_id) : undefined;
        record({ kind: "chat", ok: true, provider: job?.provider ?? null, tokens, cost: BigInt(job?.cost ?? 0) });
      } else {
        const r = await openai.chat.completions.create({
          model: opts.model,
          messages: [{ role: "user", content: prompt }],
          max_tokens: 32,
          temperature: 0,
        });
        const t = (r as unknown as { tessera: { provider: string; cost: string } }).tessera;
        record({
          kind: "chat",
          ok: true,
          provider: t.provider,
          tokens: r.usage?.completion_tokens ?? 0,
          cost: BigInt(t.cost),
        });
      }
    } catch (e) {
      record({ kind: "chat", ok: false, provider: null, tokens: 0, cost: 0n, error: (e as Error).message });
    }
  });

  const wasm = Array.from({ length: opts.wasmJobs }, async (_, i) => {
    const w = WASM_INPUTS[i % WASM_INPUTS.length]!;
    try {
      const submitted = await opts.client.submitJob({
        runtime: "wasm",
        module: moduleIds.get(w.module)!,
        input: { data: Buffer.from(w.input).toString("base64") },
        limits: { timeoutMs: 10_000, maxMemoryMb: 64 },
      });
      const job: JobView = await opts.client.waitForJob(submitted.id);
      record({
        kind: "wasm",
        ok: job.status === "completed",
        provider: job.provider,
        tokens: 0,
        cost: BigInt(job.cost ?? 0),
        error: job.error ?? undefined,
      });
    } catch (e) {
      record({ kind: "wasm", ok: false, provider: null, tokens: 0, cost: 0n, error: (e as Error).message });
    }
  });

  await Promise.all([...chats, ...wasm]);
  bar.stop();
  const providers: ProviderInfo[] = (await opts.client.providers()).data;
  const earnedAfter = await earnings(opts.client);
  const perProvider = providers.map((p) => {
    const mine = outcomes.filter((o) => o.ok && o.provider === p.id);
    return {
      id: p.id,
      region: p.region,
      jobs: mine.length,
      tokens: mine.reduce((n, o) => n + o.tokens, 0),
      cost: mine.reduce((n, o) => n + o.cost, 0n),
      earned: (earnedAfter.get(p.id) ?? 0n) - (earnedBefore.get(p.id) ?? 0n),
    };
  });
  return { outcomes, perProvider };
}
