// An adversarial provider process: the real provider daemon with its runtimes wrapped by a
// cheating strategy. Run as `node --import tsx test/helpers/adversary.ts <strategy> <config-json>`.
// Strategies: random | smaller-model | truncate | inflate | replay | cheat-q=<q> (random output on a
// fraction q of jobs) | lazy-verifier (passes everything) | griefing-verifier (fails everything) |
// colluding-verifier (passes every result of its partners, checks everyone else's honestly) |
// lookup-lazy-verifier (checks nothing but what the public API tells: fails an audit whose provider
// is not in /v1/providers or whose job the explorer does not know, passes the rest) |
// sampled-lookup-lazy-verifier (checks greedy results, and judges sampled ones by those lookups
// alone: known-wrong canaries of sampled jobs were of the old form only) | fake-capacity |
// claims-out-of-fuel (answers every WASM job, unrun, that it ran out of fuel: the whole limit billed).
// The config JSON is the provider's, plus `adversary: { seed?, partners? }`: `seed` seeds the
// cheat draws (which jobs a cheat-q provider cheats on, and its random tokens), so a run is
// reproducible; `partners` are the node ids a colluding verifier passes whatever they send.
import { join } from "node:path";
import { evidenceSigner, loadOrCreateEthKey } from "@tessera/chain";
import { fuelLimit, fuelStandardUnits, promptTokenBound } from "@tessera/core";
import type { LlmJobSpec, LlmOutput, ProviderMessage, WasmJobSpec } from "@tessera/protocol";
import { type LlmRuntimeLike, type ProviderConfigInput, startProvider } from "@tessera/provider";
import { createLlmRuntime, llmStandardUnits, makeTinyModel, type Runtime } from "@tessera/runtimes";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

interface AdversaryOptions {
  seed?: number;
  partners?: string[];
  /** on-chain settlement: the node's eth key file (advertised, and signing EIP-712 evidence) */
  ethKeyFile?: string;
  /** sign the EIP-712 evidence with a throw-away key instead of the advertised one */
  wrongEthSigner?: boolean;
}

const [strategy = "random", configJson = "{}"] = process.argv.slice(2);
const { adversary: options = {}, ...config } = JSON.parse(configJson) as ProviderConfigInput & {
  adversary?: AdversaryOptions;
};
const partners = new Set(options.partners ?? []);
const eth = options.ethKeyFile ? loadOrCreateEthKey(options.ethKeyFile) : undefined;
if (eth) (config as { ethAddress?: string }).ethAddress = eth.address;
const signer = eth
  ? evidenceSigner(options.wrongEthSigner ? privateKeyToAccount(generatePrivateKey()) : eth.account)
  : undefined;

/** mulberry32: a small seeded generator, uniform in [0, 1) */
function seeded(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// one draw per executed job decides whether to cheat on it; the forged tokens come from another
// stream, so which jobs are cheated on depends on the seed and the job count only
const seed = options.seed ?? 7;
const cheatDraw = seeded(seed);
const rand = seeded(seed ^ 0x5eed);
let executed = 0;

/** The gateway's public HTTP base, from the provider's gateway URL. */
const httpBase = String((config as { gateway?: string }).gateway ?? "")
  .replace(/^ws/, "http")
  .replace(/\/v1\/provider\/connect\/?$/, "")
  .replace(/\/+$/, "");

/**
 * A verdict from public lookups alone: the provider must be listed and the job known to the
 * explorer with this provider; nothing is checked against the spec.
 */
async function lookUp(jobId: string, providerId: string | undefined) {
  const verdict = (pass: boolean, reason: string) => ({ pass, reasons: [reason], checks: ["lookup"], metrics: {} });
  const providers = (await (await fetch(`${httpBase}/v1/providers`)).json()) as { data: Array<{ id: string }> };
  if (!providers.data.some((p) => p.id === providerId)) return verdict(false, "provider not listed");
  const res = await fetch(`${httpBase}/v1/explorer/jobs/${jobId}`);
  if (res.status !== 200) return verdict(false, `job not in the explorer (${res.status})`);
  const body = (await res.json()) as { job: { provider: string | null } };
  return body.job.provider === providerId ? verdict(true, "looked up") : verdict(false, "another provider's job");
}

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
    verify: async (spec, claim, ctx) => {
      if (strategy === "lazy-verifier") return { pass: true, reasons: [], checks: [], metrics: {} };
      if (strategy === "lookup-lazy-verifier") return lookUp(ctx.jobId, ctx.providerId);
      if (strategy === "sampled-lookup-lazy-verifier" && spec.params.temperature > 0)
        return lookUp(ctx.jobId, ctx.providerId);
      if (strategy === "griefing-verifier") return { pass: false, reasons: ["always fails"], checks: [], metrics: {} };
      if (!honest.verify) throw new Error("no verify");
      const report = await honest.verify(spec, claim, ctx);
      // a partner's result passes with the report of a real check (its margins), just not its verdict
      if (strategy === "colluding-verifier" && ctx.providerId && partners.has(ctx.providerId))
        return { ...report, pass: true, reasons: [] };
      return report;
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
      const n = ++executed;
      if (cheatDraw() >= q) return r;
      if (strategy.startsWith("cheat-q=")) console.error(`adversary: cheating on job #${n} (${ctx.jobId})`);
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
          // as far as the gateway's bound on a prompt (one token per byte and the template's) lets
          // it: a count past that is refused at settle, below it only an audit's recount shows it
          const inputTokens = Math.min(r.units.inputTokens + 100, promptTokenBound(spec));
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

/** Bills every WASM job its whole fuel limit, as if it had burned it, without running it. */
function claimsOutOfFuel(honest: Runtime<WasmJobSpec>): Runtime<WasmJobSpec> {
  return {
    ...honest,
    execute: async (spec) => ({
      output: { data: "", outOfFuel: true },
      units: { inputTokens: 0, outputTokens: 0, standardUnits: fuelStandardUnits(fuelLimit(spec.limits)) },
    }),
  };
}

const handle = await startProvider(config, {
  ...(signer ? { evidenceSigner: signer } : {}),
  runtimes: async (ctx) => {
    const honest = await ctx.createDefault();
    let impostor: LlmRuntimeLike | undefined;
    if (strategy === "smaller-model") {
      const path = await makeTinyModel(join(ctx.config.dataDir, "impostor.gguf"), { seed: 4242, blockCount: 2 });
      impostor = await createLlmRuntime({ modelPaths: [path] });
    }
    const wasm = strategy === "claims-out-of-fuel" && honest.wasm ? claimsOutOfFuel(honest.wasm) : honest.wasm;
    return { ...honest, llm: honest.llm ? wrap(honest.llm, impostor) : undefined, wasm };
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
