// A load-generating client process for the job-throughput bench. It keeps `inflight` jobs
// outstanding (each lane submits one job, waits for its result, checks it, submits the next)
// against either Tessera (the SDK: submitJob + waitForJob's long-poll) or BullMQ (Queue.add +
// job.waitUntilFinished). Driven over IPC by bench/job-throughput.ts; argv[2] is JSON config.
import { TesseraClient } from "@tessera/sdk";
import { Queue, QueueEvents } from "bullmq";
import { httpFetch } from "./http-fetch.js";
import { summarize } from "./stats.js";
import { stamp } from "./trace-types.js";
import { inputFor, isReversed, specFor } from "./wasm-job.js";

interface Config {
  system: "tessera" | "bullmq";
  tag: string;
  moduleId: string;
  url?: string;
  apiKey?: string;
  redisPort?: number;
  queue?: string;
  /** Tessera only: "http" (node:http keep-alive, see http-fetch.ts) or "fetch" (global fetch) */
  transport?: "http" | "fetch";
}
type RunMsg = { type: "run"; jobs: number; inflight: number; round: string };

const cfg = JSON.parse(process.argv[2] ?? "{}") as Config;
let runJob: (input: string) => Promise<boolean>;
let close: () => Promise<void>;

if (cfg.system === "tessera") {
  const client = new TesseraClient({
    baseUrl: cfg.url!,
    apiKey: cfg.apiKey!,
    ...(cfg.transport === "fetch" ? {} : { fetch: httpFetch }),
  });
  runJob = async (input) => {
    const submitted = await client.submitJob(specFor(cfg.moduleId, input));
    const job = await client.waitForJob(submitted.id);
    return job.status === "completed" && isReversed(input, (job.output as { data?: string } | null)?.data);
  };
  close = async () => {};
} else {
  const connection = { host: "127.0.0.1", port: cfg.redisPort! };
  const queue = new Queue<{ input: string }, string>(cfg.queue!, { connection });
  const events = new QueueEvents(cfg.queue!, { connection });
  await events.waitUntilReady();
  runJob = async (input) => {
    const job = await queue.add("reverse", { input });
    return isReversed(input, await job.waitUntilFinished(events));
  };
  close = async () => {
    await events.close();
    await queue.close();
  };
}

async function run(msg: RunMsg): Promise<void> {
  let next = 0;
  let done = 0;
  let completed = 0;
  let failed = 0;
  const latencies: number[] = [];
  const errors: string[] = [];
  const progress = setInterval(() => process.send?.({ type: "progress", done }), 250);
  const firstStart = stamp();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= msg.jobs) return;
      const t0 = stamp();
      const ok = await runJob(inputFor(`${cfg.tag}-${msg.round}`, i)).catch((e: unknown) => {
        if (errors.length < 5) errors.push((e as Error).message);
        return false;
      });
      latencies.push(stamp() - t0);
      done++;
      if (ok) completed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: msg.inflight }, lane));
  const lastEnd = stamp();
  clearInterval(progress);
  process.send?.({ type: "result", completed, failed, errors, firstStart, lastEnd, latency: summarize(latencies) });
}

process.on("message", (m: RunMsg | { type: "stop" }) => {
  if (m.type === "run") void run(m);
  else void close().then(() => process.exit(0));
});
process.on("disconnect", () => void close().then(() => process.exit(0)));
process.send?.({ type: "ready" });
