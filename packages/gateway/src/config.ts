// Gateway settings: one typed object validated at start-up, so a bad flag fails fast with
// a message naming it instead of misbehaving later.
import { z } from "zod";
import { SettlementConfigSchema } from "./settlement/config.js";
import { checkVerificationConfig, VerificationConfigSchema } from "./verification/config.js";

export const GatewayConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8787),
    host: z.string().default("127.0.0.1"),
    /** SQLite file path (default) or postgres:// URL */
    db: z.string().min(1).default(".tessera/gateway.db"),
    /** gateway identity key file; a fresh one is created when missing */
    keyFile: z.string().optional(),
    /** bearer token for /v1/admin/*; admin API disabled when absent */
    adminKey: z.string().min(16).optional(),
    /** protocol fee in basis points of each settled cost */
    feeBps: z.number().int().min(0).max(5000).default(500),
    leaseMs: z.number().int().min(500).default(15_000),
    heartbeatMs: z.number().int().min(100).default(2_000),
    /** how long a dropped provider keeps its leases, to survive a network blip */
    disconnectGraceMs: z.number().int().min(0).default(2_000),
    /** after a gateway restart, how long running jobs wait for their provider to reconnect */
    restartGraceMs: z.number().int().min(0).default(8_000),
    maxAttempts: z.number().int().min(1).max(20).default(3),
    /** queue deadline of native jobs that set none */
    defaultDeadlineMs: z
      .number()
      .int()
      .positive()
      .default(24 * 3600_000),
    /** queue deadline of synchronous OpenAI requests: past it they answer 503 */
    syncDeadlineMs: z.number().int().positive().default(60_000),
    /** how long a non-streamed OpenAI request waits for its answer in all; past it the job is
     * cancelled (refunded) and the request answers 504, unless an Idempotency-Key can collect it */
    answerWaitMs: z
      .number()
      .int()
      .positive()
      .default(11 * 60_000),
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    blobLimitBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /** requests per second per API key; 0 disables rate limiting */
    rateLimitPerSecond: z.number().int().min(0).default(1000),
    /** how often the dashboard's overview time series is sampled (the last hour is kept) */
    sampleMs: z.number().int().min(100).max(60_000).default(2_000),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** most jobs one consumer may have running at once; 0: no cap */
    maxRunningPerConsumer: z.number().int().min(0).default(0),
    /** an interactive job waiting this long takes a slot from a running batch job; 0: never preempt */
    preemptAfterMs: z.number().int().min(0).default(2_000),
    /** where uploaded batch files and batch outputs live (default: files/ beside the SQLite file) */
    filesDir: z.string().min(1).optional(),
    /** lines of one consumer's batches submitted to the queue and not yet finished, at most */
    batchInFlightPerConsumer: z.number().int().min(1).max(100_000).default(512),
    /** largest accepted batch input file */
    fileLimitBytes: z
      .number()
      .int()
      .positive()
      .default(512 * 1024 * 1024),
    /** stake, audits, slashing (verification/config.ts) */
    verification: VerificationConfigSchema.default(VerificationConfigSchema.parse({})),
    /** where money lives: the local ledger (default) or EVM contracts (settlement/config.ts) */
    settlement: SettlementConfigSchema.default({ kind: "local", pollMs: 500 }),
  })
  .strict();

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;

export function parseGatewayConfig(input: GatewayConfigInput): GatewayConfig {
  const r = GatewayConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`invalid gateway setting '${issue?.path.join(".")}': ${issue?.message}`);
  }
  try {
    checkVerificationConfig(r.data.verification);
  } catch (e) {
    throw new Error(`invalid gateway setting 'verification.policy': ${(e as Error).message}`);
  }
  return r.data;
}
