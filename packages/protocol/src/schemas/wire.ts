// Messages on the provider channel (WebSocket, JSON text frames). The provider dials out,
// proves its key against a fresh challenge, advertises what it can run, then takes leases.
import { z } from "zod";
import {
  AuditCancelMsg,
  AuditIdSchema,
  AuditMsg,
  CapacityChallengeMsg,
  CapacityProofMsg,
  VerdictMsg,
} from "./audit.js";
import { EthAddressSchema, EthSignatureSchema } from "./chain.js";
import { ContentIdSchema, JobOutputSchema, JobSpecSchema, RegionSchema } from "./job.js";
import { MoneySchema, UnitsSchema } from "./units.js";

const NodeIdSchema = z.string().regex(/^[0-9a-f]{64}$/);
const JobIdSchema = z.string().min(1).max(64);

/**
 * Largest provider-channel frame the gateway's WebSocket accepts. A bigger frame closes the
 * session (1009), and a result resent on every reconnect would do so forever, so the provider
 * checks a result against this before it sends it.
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** The most jobs a node may run at once (`maxConcurrency`) and take beyond them (`prefetch`). */
export const MAX_CONCURRENCY = 1024;
export const MAX_PREFETCH = 64;

/**
 * The most jobs one heartbeat of a node may list: the leases it can hold (concurrency plus
 * prefetch), twice over for cancelled jobs still winding down, plus a little. The gateway holds
 * each node to its own limit; the schema can only hold every node to the largest one.
 */
export function heartbeatLimit(caps: { maxConcurrency: number; prefetch?: number | undefined }): number {
  return 2 * (caps.maxConcurrency + (caps.prefetch ?? 0)) + 16;
}

export const ModelInfoSchema = z
  .object({
    id: ContentIdSchema,
    name: z.string().min(1).max(200),
    /** parameter count, for metering (2 x parameters x tokens); at most 10^13 */
    parameters: z.number().int().positive().max(1e13),
    contextSize: z.number().int().positive().max(10_000_000),
  })
  .strict();
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const CapabilitiesSchema = z
  .object({
    runtimes: z.array(z.enum(["llm", "wasm"])).min(1),
    models: z.array(ModelInfoSchema).max(256),
    /** nano-credits per standard unit */
    pricePerUnit: z.number().int().nonnegative(),
    /** nano-credits per standard unit for interruptible batch-class jobs (default pricePerUnit) */
    batchPricePerUnit: z.number().int().nonnegative().optional(),
    region: RegionSchema,
    maxConcurrency: z.number().int().min(1).max(MAX_CONCURRENCY),
    /**
     * batch leases this node takes beyond maxConcurrency and queues until a slot frees, so its
     * slots do not sit idle for the round trip between one result and the next lease
     */
    prefetch: z.number().int().min(0).max(MAX_PREFETCH).optional(),
    /** standard units per second this node measured on itself at start; at most 10^10 (10^16
     * FLOP/s, past any single machine), so that escrow arithmetic stays finite */
    throughput: z.number().nonnegative().max(1e10),
    /**
     * MiB the memory limits of the WASM jobs it runs at once may add up to (`--wasm-memory-budget`):
     * the scheduler leases it no WASM job whose limit does not fit in what its running ones leave
     */
    wasmMemoryMb: z
      .number()
      .int()
      .min(1)
      .max(2 ** 30)
      .optional(),
    software: z.string().max(100).optional(),
    /** this node also audits others' results (`tessera provider --verify`) */
    verifier: z.boolean().optional(),
    /** who runs the node; audits go to verifiers of another operator (default: the node id) */
    operator: z.string().min(1).max(128).optional(),
    /** secp256k1 address that redeems this node's payment vouchers on chain (`--eth-key`) */
    ethAddress: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional(),
  })
  .strict();
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

/**
 * The cost basis of a lease under on-chain settlement: the consumer's custodial address and the
 * price, so the provider can sign Result(jobId, attempt, outputHash, units, consumer, cost) with
 * cost = min(standardUnits × pricePerUnit, maxCost), exactly what the gateway will bill.
 */
export const LeaseEvidenceSchema = z
  .object({ consumer: EthAddressSchema, pricePerUnit: z.number().int().nonnegative(), maxCost: MoneySchema })
  .strict();
export type LeaseEvidence = z.infer<typeof LeaseEvidenceSchema>;

// gateway -> provider
export const ChallengeMsg = z.object({
  type: z.literal("challenge"),
  protocolVersion: z.number().int(),
  gatewayId: z.string(),
  nonce: z.string(),
});
export const WelcomeMsg = z.object({
  type: z.literal("welcome"),
  nodeId: NodeIdSchema,
  heartbeatMs: z.number().int().positive(),
  leaseMs: z.number().int().positive(),
  /**
   * --settlement evm: results and verdicts are also signed as EIP-712 evidence for the Slashing
   * contract at `slashing` on chain `chainId` (absent on the local ledger: nothing more is signed)
   */
  chain: z.object({ chainId: z.number().int().positive(), slashing: EthAddressSchema }).optional(),
});
export const LeaseMsg = z.object({
  type: z.literal("lease"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  spec: JobSpecSchema,
  leaseExpiresAt: z.number().int(),
  /** a batch-class job: the provider may give the lease back (release) and it resumes elsewhere */
  interruptible: z.boolean().optional(),
  /** false: nobody is watching the tokens, so send no chunk frames, only the result (absent: send them) */
  stream: z.boolean().optional(),
  /** --settlement evm: what the provider's EIP-712 Result needs besides the job (see LeaseEvidenceSchema) */
  evidence: LeaseEvidenceSchema.optional(),
});
export const CancelMsg = z.object({
  type: z.literal("cancel"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  reason: z.string(),
});
export const AckMsg = z.object({
  type: z.literal("ack"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  accepted: z.boolean(),
  reason: z.string().optional(),
});
export const ErrorMsg = z.object({ type: z.literal("error"), code: z.string(), message: z.string() });
export const GatewayMessageSchema = z.discriminatedUnion("type", [
  ChallengeMsg,
  WelcomeMsg,
  LeaseMsg,
  CancelMsg,
  AckMsg,
  ErrorMsg,
  AuditMsg,
  AuditCancelMsg,
  CapacityChallengeMsg,
]);
export type GatewayMessage = z.infer<typeof GatewayMessageSchema>;

// provider -> gateway
export const HelloMsg = z.object({
  type: z.literal("hello"),
  protocolVersion: z.number().int(),
  nodeId: NodeIdSchema,
  signature: z.string().max(200),
  capabilities: CapabilitiesSchema,
  /**
   * leases this node still holds from an earlier session (running, waiting or unwinding): the
   * gateway leases it nothing until its first heartbeat has named them, or a lease could reach a
   * slot that a job whose lease expired meanwhile still fills, be refused, and cost its job an
   * attempt. Absent: none.
   */
  holding: z
    .number()
    .int()
    .positive()
    .max(heartbeatLimit({ maxConcurrency: MAX_CONCURRENCY, prefetch: MAX_PREFETCH }))
    .optional(),
});
/** The most audits one heartbeat lists (HeartbeatMsg.audits). */
export const MAX_HEARTBEAT_AUDITS = 256;
export const HeartbeatMsg = z.object({
  type: z.literal("heartbeat"),
  running: z
    .array(z.object({ jobId: JobIdSchema, attempt: z.number().int().positive() }))
    .max(heartbeatLimit({ maxConcurrency: MAX_CONCURRENCY, prefetch: MAX_PREFETCH })),
  /**
   * a verifier's audits in hand (checking, or waiting for WASM memory), each with the MiB of its
   * WASM memory budget it holds or waits for (a WASM audit's memory limit; 0 for others): the
   * scheduler leases no WASM job into memory they hold, and the gateway cancels (AuditCancelMsg)
   * those it waits on no more. Absent: none (and all a gateway or node from before it sends or reads).
   */
  audits: z
    .array(
      z.object({
        auditId: AuditIdSchema,
        wasmMemoryMb: z
          .number()
          .int()
          .nonnegative()
          .max(2 ** 30),
      }),
    )
    .max(MAX_HEARTBEAT_AUDITS)
    .optional(),
});
export const ChunkMsg = z.object({
  type: z.literal("chunk"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  seq: z.number().int().nonnegative(),
  text: z.string(),
  tokens: z.array(z.number().int()).optional(),
  /** the prompt's token count, on an llm lease's first chunk: what a stop bills for it (core's streamedUnits) */
  promptTokens: z.number().int().nonnegative().optional(),
});
export const ResultMsg = z.object({
  type: z.literal("result"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  output: JobOutputSchema,
  outputHash: ContentIdSchema,
  units: UnitsSchema,
  signature: z.string().max(200),
  elapsedMs: z.number().nonnegative(),
  /** --settlement evm: EIP-712 Result signed with the node's eth key (chain.ts), when the lease asked for it */
  chainSignature: EthSignatureSchema.optional(),
});
export const FailureMsg = z.object({
  type: z.literal("failure"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  reason: z.string().max(2000),
  /** false when the job itself is at fault (bad input, trap): retrying elsewhere cannot help */
  retryable: z.boolean(),
});
export const DrainMsg = z.object({ type: z.literal("drain") });
/**
 * The owner wants the machine for a while (paused: true) or gives it back (false). While paused
 * the provider is leased nothing and gives its batch leases back; interactive ones finish.
 */
export const PauseMsg = z.object({ type: z.literal("pause"), paused: z.boolean() });
/** The provider gives a lease back unfinished (shutdown, owner wants the machine); not billed, no attempt used. */
export const ReleaseMsg = z.object({
  type: z.literal("release"),
  jobId: JobIdSchema,
  attempt: z.number().int().positive(),
  reason: z.string().max(2000),
});
export const ProviderMessageSchema = z.discriminatedUnion("type", [
  HelloMsg,
  HeartbeatMsg,
  ChunkMsg,
  ResultMsg,
  FailureMsg,
  DrainMsg,
  PauseMsg,
  ReleaseMsg,
  VerdictMsg,
  CapacityProofMsg,
]);
export type ProviderMessage = z.infer<typeof ProviderMessageSchema>;
export type LeaseMessage = z.infer<typeof LeaseMsg>;
export type ResultMessage = z.infer<typeof ResultMsg>;
export type HelloMessage = z.infer<typeof HelloMsg>;
