// The no-network ideal for bench/batch-throughput.ts: one process that loads the tiny model with
// node-llama-cpp (through the same LLM runtime the provider uses) and runs requests directly,
// `concurrency` at a time. It stays loaded between the bench's rounds. IPC: sends "ready"; then
// for each { from, to } runs requests from..to-1 and sends { done, failed } (the bench times the
// round and reads every process's CPU from /proc); "exit" closes it.
import { createLlmRuntime } from "@tessera/runtimes";

const [modelPath, concurrency, maxTokens = "4"] = process.argv.slice(2);
const runtime = await createLlmRuntime({ modelPaths: [modelPath as string], concurrency: Number(concurrency) });
const model = runtime.models()[0];
if (!model) throw new Error("no model loaded");

async function round(from: number, to: number) {
  let next = from;
  let done = 0;
  let failed = 0;
  async function lane(): Promise<void> {
    for (let i = next++; i < to; i = next++) {
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
  return { done, failed };
}

process.on("message", (m: "exit" | { from: number; to: number }) => {
  if (m === "exit") {
    void Promise.resolve(runtime.close?.()).then(() => process.exit(0));
    return;
  }
  void round(m.from, m.to).then((r) => process.send?.(r));
});
process.send?.("ready");
