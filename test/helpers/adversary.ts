// An adversarial provider process: the real provider daemon with its runtimes wrapped by a
// cheating strategy. Run as `node --import tsx test/helpers/adversary.ts <strategy> <config-json>`.
// Strategies: random | smaller-model | truncate | inflate | replay | cheat-q=<q> (random output on a
// fraction q of jobs) | lazy-verifier (passes everything) | griefing-verifier (fails everything).
import { join } from "node:path";
import type { LlmJobSpec, LlmOutput, ProviderMessage } from "@tessera/protocol";
import { type LlmRuntimeLike, type ProviderConfigInput, startProvider } from "@tessera/provider";
import { createLlmRuntime, llmStandardUnits, makeTinyModel } from "@tessera/runtimes";

const [strategy = "random", configJson = "{}"] = process.argv.slice(2);
const config = JSON.parse(configJson) as ProviderConfigInput;
let seed = 7;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

function wrap(honest: LlmRuntimeLike, impostor: LlmRuntimeLike | undefined): LlmRuntimeLike {
  const info = honest.models()[0];
  let replay: { output: LlmOutput } | undefined;
  const q = strategy.startsWith("cheat-q=") ? Number(strategy.slice(8)) : 1;
  const randomOutput = (_spec: LlmJobSpec, real: LlmOutput): LlmOutput => {
    const tokens = real.tokens.map(() => 300 + Math.floor(rand() * 1000));
    return { ...real, tokens, logprobs: tokens.map(() => -3) };
  };
  const runtime: LlmRuntimeLike = {
    name: "llm",
    models: () => honest.models(),
    close: async () => {
      await honest.close();
      await impostor?.close();
    },
    verify: (spec, claim, ctx) => {
      if (strategy === "lazy-verifier") return Promise.resolve({ pass: true, reasons: [], checks: [], metrics: {} });
      if (strategy === "griefing-verifier")
        return Promise.resolve({ pass: false, reasons: ["always fails"], checks: [], metrics: {} });
      if (!honest.verify) throw new Error("no verify");
      return honest.verify(spec, claim, ctx);
    },
    async execute(spec, ctx) {
      if (strategy === "smaller-model" && impostor) {
        const r = await impostor.execute({ ...spec, model: impostor.models()[0]?.id as string }, ctx);
        return {
          ...r,
          units: {
            ...r.units,
            standardUnits: llmStandardUnits(info?.parameters ?? 1, r.units.inputTokens + r.units.outputTokens),
          },
        };
      }
      const r = await honest.execute(spec, ctx);
      const out = r.output as LlmOutput;
      if (rand() >= q) return r;
      switch (strategy) {
        case "truncate": {
          const n = Math.max(1, Math.floor(out.tokens.length / 2));
          const output = {
            ...out,
            tokens: out.tokens.slice(0, n),
            logprobs: out.logprobs.slice(0, n),
            finishReason: "stop" as const,
          };
          const units = {
            ...r.units,
            outputTokens: n,
            standardUnits: llmStandardUnits(info?.parameters ?? 1, r.units.inputTokens + n),
          };
          return { output, units };
        }
        case "inflate": {
          const inputTokens = r.units.inputTokens + 100;
          return {
            output: out,
            units: {
              ...r.units,
              inputTokens,
              standardUnits: llmStandardUnits(info?.parameters ?? 1, inputTokens + out.tokens.length),
            },
          };
        }
        case "replay": {
          if (!replay) {
            replay = { output: out };
            return r;
          }
          const o = replay.output;
          return {
            output: o,
            units: {
              ...r.units,
              outputTokens: o.tokens.length,
              standardUnits: llmStandardUnits(info?.parameters ?? 1, r.units.inputTokens + o.tokens.length),
            },
          };
        }
        default:
          if (strategy.includes("verifier")) return r;
          return { output: randomOutput(spec, out), units: r.units };
      }
    },
  };
  return runtime;
}

const handle = await startProvider(config, {
  runtimes: async (ctx) => {
    const honest = await ctx.createDefault();
    let impostor: LlmRuntimeLike | undefined;
    if (strategy === "smaller-model") {
      const path = await makeTinyModel(join(ctx.config.dataDir, "impostor.gguf"), { seed: 4242, blockCount: 2 });
      impostor = await createLlmRuntime({ modelPaths: [path] });
    }
    return { ...honest, llm: honest.llm ? wrap(honest.llm, impostor) : undefined };
  },
  // cheats on proof of capacity only when told to; otherwise answers like any node
  ...(strategy === "fake-capacity"
    ? {
        capacityAnswer: (msg: { challengeId: string }): ProviderMessage => ({
          type: "capacity_proof",
          challengeId: msg.challengeId,
          product: "",
        }),
      }
    : {}),
});
const stop = () => void handle.stop().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
