// Cost of checking: time of the teacher-forced verification of an LLM result against the time of
// the generation it checks, in the same run, on the tiny model at 64, 256 and 1,024 output tokens
// (goal ≤ 0.1 at 256). Both sides run with one llama.cpp thread in this process, one after the
// other; beside wall time, the process's CPU time over each side counts every thread it used (the
// verifier's logit reads run on libuv's pool, so its CPU time can exceed its wall time). The tiny
// model is measured as F32 and quantized to Q8_0 and Q4_0, as GGUF models usually ship: quantized
// weights make the batched prefill cheaper (int8 matrix products) while the one-token decode steps
// of generation stay dominated by per-step overhead on a model this small. The "pass alone"
// column is the floor under any teacher-forced check: llama.cpp evaluating prompt + output in one
// batch with nothing read back, in the verifier's context.
// Run: npx tsx bench/verification-cost.ts [REPS=7] [WEIGHTS=f32,q8_0,q4_0]
// A verifier set up otherwise (VERIFIER_THREADS=2, VERIFIER_FLASH_ATTENTION=1; the generation
// side keeps one thread, no flash attention) is recorded beside the default run, not over it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LlmJobSpec } from "@tessera/protocol";
import { createLlmRuntime, tokenizeInput, WEIGHT_TYPES } from "@tessera/runtimes";
import type { Token } from "node-llama-cpp";
import { parseWeights, tinyModel } from "./lib/llm-mix.js";

const REPS = Number(process.env.REPS ?? 7);
const VERIFIER_THREADS = Number(process.env.VERIFIER_THREADS ?? 1);
const VERIFIER_FA = process.env.VERIFIER_FLASH_ATTENTION === "1";
const NAME = `verification-cost${VERIFIER_THREADS === 1 ? "" : `-verifier-t${VERIFIER_THREADS}`}${VERIFIER_FA ? "-fa" : ""}`;
const WEIGHTS = (process.env.WEIGHTS ?? WEIGHT_TYPES.join(",")).split(",").map(parseWeights);
const dir = join(import.meta.dirname, "results");
const signal = new AbortController().signal;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const rows = [];
for (const weights of WEIGHTS) {
  const model = await tinyModel(weights);
  const producer = await createLlmRuntime({ modelPaths: [model], threads: 1 });
  const verifier = await createLlmRuntime({
    modelPaths: [model],
    threads: VERIFIER_THREADS,
    flashAttention: VERIFIER_FA,
  });
  const id = producer.models()[0]?.id as string;
  for (const n of [64, 256, 1024]) {
    const gen: number[] = [];
    const ver: number[] = [];
    const genCpu: number[] = [];
    const verCpu: number[] = [];
    const pass1: number[] = [];
    let tokens = 0;
    let pass = true;
    for (let rep = 0; rep < REPS; rep++) {
      // sampled, so the output runs to the cap more often than greedy (which may hit </s> early)
      const spec: LlmJobSpec = {
        runtime: "llm",
        model: id,
        input: { prompt: `The world is ${rep}` },
        params: { temperature: 0.8, topK: 40, seed: 1000 + rep },
        limits: { maxOutputTokens: n },
      };
      let t = performance.now();
      let c = process.cpuUsage();
      const r = await producer.execute(spec, { jobId: "b", attempt: 1, signal });
      gen.push(performance.now() - t);
      genCpu.push(cpuMs(process.cpuUsage(c)));
      t = performance.now();
      c = process.cpuUsage();
      const v = await verifier.verify(spec, r, { jobId: "b", signal });
      ver.push(performance.now() - t);
      verCpu.push(cpuMs(process.cpuUsage(c)));
      pass1.push(
        await verifier.withModel(id, async (h) => {
          await h.sequence.clearHistory();
          const all = [...tokenizeInput(h.model, spec.input), ...(r.output.tokens as Token[])];
          const t0 = performance.now();
          await h.sequence.controlledEvaluate(all);
          const ms = performance.now() - t0;
          await h.sequence.clearHistory();
          return ms;
        }),
      );
      tokens += r.output.tokens.length;
      pass &&= v.pass;
    }
    const g = median(gen);
    const v = median(ver);
    const gc = median(genCpu);
    const vc = median(verCpu);
    const p1 = median(pass1);
    rows.push({
      weights,
      maxOutputTokens: n,
      meanTokens: tokens / REPS,
      generateMs: g,
      verifyMs: v,
      ratio: v / g,
      passAloneMs: p1,
      passAloneRatio: p1 / g,
      generateCpuMs: gc,
      verifyCpuMs: vc,
      cpuRatio: vc / gc,
      allPassed: pass,
    });
    console.log(
      `${weights}, ${n} tokens: generate ${g.toFixed(1)} ms, verify ${v.toFixed(1)} ms, ratio ${(v / g).toFixed(3)} ` +
        `(pass alone ${p1.toFixed(1)} ms, ${(p1 / g).toFixed(3)}); ` +
        `CPU ${gc.toFixed(1)} vs ${vc.toFixed(1)} ms, ratio ${(vc / gc).toFixed(3)}`,
    );
  }
  await producer.close();
  await verifier.close();
}

mkdirSync(dir, { recursive: true });
const result = {
  bench: "verification-cost",
  date: new Date().toISOString(),
  command: `${VERIFIER_THREADS === 1 ? "" : `VERIFIER_THREADS=${VERIFIER_THREADS} `}${VERIFIER_FA ? "VERIFIER_FLASH_ATTENTION=1 " : ""}npx tsx bench/verification-cost.ts`,
  peer: "generation of the same output (what full replication re-does)",
  reps: REPS,
  rows,
};
writeFileSync(join(dir, `${NAME}.json`), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  `# Cost of checking an LLM result (tiny model; generation 1 llama.cpp thread, verifier ${VERIFIER_THREADS}${VERIFIER_FA ? ", flash attention" : ""})`,
  "",
  "| weights | max output tokens | tokens (mean) | generate ms | verify ms | verify / generate | pass alone ms | pass alone / generate | generate CPU ms | verify CPU ms | CPU ratio | honest passed |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.weights} | ${r.maxOutputTokens} | ${r.meanTokens.toFixed(0)} | ${r.generateMs.toFixed(1)} | ${r.verifyMs.toFixed(1)} | ${r.ratio.toFixed(3)} | ${r.passAloneMs.toFixed(1)} | ${r.passAloneRatio.toFixed(3)} | ${r.generateCpuMs.toFixed(1)} | ${r.verifyCpuMs.toFixed(1)} | ${r.cpuRatio.toFixed(3)} | ${r.allPassed} |`,
  ),
  "",
  `Median of ${REPS} runs each; \`${result.command}\`, ${result.date}.`,
  "",
].join("\n");
writeFileSync(join(dir, `${NAME}.md`), md);
