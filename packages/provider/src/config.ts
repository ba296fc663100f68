// The provider daemon's settings: one typed object validated at start-up, so that a bad flag
// fails fast with a message naming it instead of misbehaving once jobs arrive.
import { totalmem } from "node:os";
import { RegionSchema, RUNTIMES } from "@tessera/protocol";
import { z } from "zod";
import { DEFAULT_BACKOFF } from "./backoff.js";
import { gatewayUrls } from "./urls.js";
import { defaultWasmMemoryBudgetMb } from "./wasm-budget.js";

const GatewayUrlSchema = z.string().refine(
  (value) => {
    try {
      gatewayUrls(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be a ws://, wss://, http:// or https:// URL of the gateway" },
);

export const ProviderConfigSchema = z
  .object({
    /** the gateway's base URL; ws(s) or http(s), the connect path is added */
    gateway: GatewayUrlSchema,
    /** ed25519 key file; created with a fresh identity when missing */
    keyFile: z.string().min(1),
    region: RegionSchema,
    /** nano-credits per standard unit */
    price: z.number().int().nonnegative(),
    /** nano-credits per standard unit for interruptible batch work (default: price) */
    batchPrice: z.number().int().nonnegative().optional(),
    /** GGUF model files to serve; may be empty (then only wasm is offered) */
    models: z.array(z.string().min(1)).default([]),
    /** also serve the generated tiny model (written under <dataDir>/models) */
    tinyModel: z.boolean().default(false),
    /** jobs run at once, across runtimes */
    concurrency: z.number().int().min(1).max(1024).default(1),
    /**
     * batch leases taken beyond `concurrency`, each waiting for a slot, so a slot starts its next
     * job at once instead of idling for the round trip to the gateway (interactive work never uses them)
     */
    prefetch: z.number().int().min(0).max(64).default(0),
    /** CPU threads for the LLM runtime; its default when absent */
    threads: z.number().int().min(1).max(1024).optional(),
    /** LLM context size per sequence; the runtime's default when absent */
    contextSize: z.number().int().min(64).optional(),
    /** LLM batch size; the runtime's default when absent */
    batchSize: z.number().int().min(1).optional(),
    /** let the LLM runtime use a GPU backend when one is available (default CPU only) */
    gpu: z.boolean().default(false),
    /** runtimes to offer; default llm (when there are models) and wasm */
    runtimes: z.array(z.enum(RUNTIMES)).min(1).optional(),
    /** blob cache, generated models */
    dataDir: z.string().min(1).default(".tessera"),
    /** reconnect backoff: first delay ceiling and largest delay */
    reconnectInitialMs: z.number().int().min(1).default(DEFAULT_BACKOFF.initialMs),
    reconnectMaxMs: z.number().int().min(1).default(DEFAULT_BACKOFF.maxMs),
    /** a blob larger than this is refused (the job fails as a fault) */
    maxBlobBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
    /** disk the blob cache (<dataDir>/blobs) may use; least recently used blobs are deleted past it */
    maxBlobCacheBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024 * 1024),
    /**
     * MiB the memory limits of the WASM jobs running at once may add up to (each job may grow to
     * its limit, up to 4 GiB); jobs beyond it wait for memory to free. Default: half this machine's memory
     */
    wasmMemoryBudgetMb: z
      .number({ error: "must be a whole number of MiB" })
      .int({ message: "must be a whole number of MiB" })
      .min(1, { message: "must be at least 1 MiB" })
      .default(() => defaultWasmMemoryBudgetMb(totalmem())),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** also act as a verifier: re-check other providers' results for a fee */
    verify: z.boolean().default(false),
    /** operator label; audits go to verifiers of another operator (default: the node id) */
    operator: z.string().min(1).max(128).optional(),
    /** chain address that redeems this node's vouchers, from the `--eth-key` file */
    ethAddress: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional(),
  })
  .strict();

export type ProviderConfig = z.infer<typeof ProviderConfigSchema>;
export type ProviderConfigInput = z.input<typeof ProviderConfigSchema>;

/** The CLI flag behind each setting, so errors speak the operator's language. */
export const CONFIG_FLAGS: Record<keyof ProviderConfig, string> = {
  gateway: "--gateway",
  keyFile: "--key",
  region: "--region",
  price: "--price",
  batchPrice: "--batch-price",
  models: "--models",
  tinyModel: "--tiny-model",
  concurrency: "--concurrency",
  prefetch: "--prefetch",
  threads: "--threads",
  contextSize: "--context-size",
  batchSize: "--batch-size",
  gpu: "--gpu",
  runtimes: "--runtimes",
  dataDir: "--data-dir",
  reconnectInitialMs: "reconnectInitialMs",
  reconnectMaxMs: "reconnectMaxMs",
  maxBlobBytes: "maxBlobBytes",
  maxBlobCacheBytes: "maxBlobCacheBytes",
  wasmMemoryBudgetMb: "--wasm-memory-budget",
  logLevel: "--log-level",
  verify: "--verify",
  operator: "--operator",
  ethAddress: "--eth-key",
};

export class ProviderConfigError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`invalid ${flag}: ${message}`);
    this.name = "ProviderConfigError";
  }
}

export function parseProviderConfig(input: ProviderConfigInput): ProviderConfig {
  const r = ProviderConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue?.path[0];
    const flag =
      typeof key === "string" && key in CONFIG_FLAGS
        ? CONFIG_FLAGS[key as keyof ProviderConfig]
        : issue?.path.length
          ? issue.path.join(".")
          : "provider setting";
    throw new ProviderConfigError(flag, issue?.message ?? "invalid value");
  }
  const config = r.data;
  if (config.reconnectMaxMs < config.reconnectInitialMs) {
    throw new ProviderConfigError("reconnectMaxMs", "must not be below reconnectInitialMs");
  }
  const machineMb = Math.floor(totalmem() / (1024 * 1024));
  if (config.wasmMemoryBudgetMb > machineMb) {
    throw new ProviderConfigError(
      CONFIG_FLAGS.wasmMemoryBudgetMb,
      `${config.wasmMemoryBudgetMb} MiB is more than this machine's ${machineMb} MiB of memory`,
    );
  }
  return config;
}
