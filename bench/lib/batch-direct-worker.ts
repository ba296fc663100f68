// The no-network ideal for bench/batch-throughput.ts: one process that loads the tiny model with
// node-llama-cpp (through the same LLM runtime the provider uses) and runs its share of the
// batch's requests directly, `concurrency` at a time. IPC: sends "ready", waits for "go",
// sends { done, failed, elapsedMs, cpuMs } (its own CPU time from "go" to the end).
import { createLlmRuntime } from "@tessera/runtimes";

const [modelPath, from, to, concurrency, maxTokens = "4"] = process.argv.slice(2);
const runtime = await createLlmRuntime({ modelPaths: [modelPath as string], concurrency: Number(concurrency) });
const model = runtime.models()[0];
if (!model) throw new Error("no model loaded");
process.send?.("ready");
await new Promise<void>((r) => process.once("message", () => r()));

let next = Number(from);
let done = 0;
let failed = 0;
const started = performance.now();
const cpuAtGo = process.cpuUsage();
async function lane(): Promise<void> {
  for (let i = next++; i < Number(to); i = next++) {
    try {
      await runtime.execute(
        {
          runtime: "llm",
          model: model?.id as string,
          input: { messages: [{ role: "user", content: `request ${i}` }] },
          params: { temperature: 0 },
          limits: { maxOutputTokens: Number(maxTokens) },
        },
        { jobId: `direct-${i}`, attempt: 1, signal: new AbortController().signal },
      );
      done++;
    } catch {
      failed++;
    }
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, lane));
const cpu = process.cpuUsage(cpuAtGo);
process.send?.({ done, failed, elapsedMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 });
await runtime.close?.();
process.exit(0);
