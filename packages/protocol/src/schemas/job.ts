// Native job specs and outputs. A job names its runtime, the content id of what runs it
// (model file or WASM module), its input, and limits that cap both cost and runtime.
import { z } from "zod";
import { CONTENT_ID_PATTERN } from "../hash.js";

export const ContentIdSchema = z.string().regex(CONTENT_ID_PATTERN, "a lowercase hex sha256 content id");
export const RegionSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "a region label like eu-west");

export const ChatMessageSchema = z
  .object({
    role: z.enum(["system", "user", "assistant", "developer"]),
    content: z.string().max(1_000_000),
  })
  .strict();
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const ConstraintsSchema = z
  .object({
    regions: z.array(RegionSchema).min(1).max(64).optional(),
    /** highest acceptable price, in nano-credits per standard unit */
    maxPricePerUnit: z.number().int().nonnegative().optional(),
    /** 0..1 */
    minReputation: z.number().min(0).max(1).optional(),
    /** the job fails with a refund if no provider has started it this many ms after submit */
    deadlineMs: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3600_000)
      .optional(),
  })
  .strict();
export type Constraints = z.infer<typeof ConstraintsSchema>;

export const LlmParamsSchema = z
  .object({
    /** 0 means greedy decoding: deterministic for a given model file */
    temperature: z.number().min(0).max(2).default(0),
    seed: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 32 - 1)
      .optional(),
    topK: z.number().int().min(1).max(1000).optional(),
    topP: z.number().gt(0).max(1).optional(),
    stop: z.array(z.string().min(1).max(256)).max(4).optional(),
  })
  .strict();
export type LlmParams = z.infer<typeof LlmParamsSchema>;

export const LlmInputSchema = z.union([
  z.object({ prompt: z.string().max(1_000_000) }).strict(),
  z.object({ messages: z.array(ChatMessageSchema).min(1).max(1024) }).strict(),
]);
export type LlmInput = z.infer<typeof LlmInputSchema>;

export const LlmJobSpecSchema = z
  .object({
    runtime: z.literal("llm"),
    model: ContentIdSchema,
    input: LlmInputSchema,
    params: LlmParamsSchema.default({ temperature: 0 }),
    limits: z
      .object({
        maxOutputTokens: z.number().int().min(1).max(32_768).default(256),
      })
      .strict()
      .default({ maxOutputTokens: 256 }),
  })
  .strict();
export type LlmJobSpec = z.infer<typeof LlmJobSpecSchema>;

/**
 * Bound on a WASM job's fuel: 10¹⁵ (10⁹ SU at one fuel per instruction) stays an exact JS number and
 * keeps escrow arithmetic finite.
 */
export const MAX_WASM_FUEL = 1e15;

export const WasmJobSpecSchema = z
  .object({
    runtime: z.literal("wasm"),
    module: ContentIdSchema,
    /** base64 bytes handed to the module's `run` export; or a blob id holding them */
    input: z.union([
      z
        .object({
          data: z
            .string()
            .max(16 * 1024 * 1024)
            .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64"),
        })
        .strict(),
      z.object({ blob: ContentIdSchema }).strict(),
    ]),
    limits: z
      .object({
        timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
        maxMemoryMb: z.number().int().min(1).max(4096).default(64),
        /**
         * Most fuel the job may burn (deterministic instruction count, see the runtimes' wasm/fuel.ts);
         * absent: timeoutMs × DEFAULT_FUEL_PER_MS (core's fuelLimit). Bills and escrow rest on it.
         */
        maxFuel: z.number().int().min(1).max(MAX_WASM_FUEL).optional(),
      })
      .strict()
      .default({ timeoutMs: 10_000, maxMemoryMb: 64 }),
  })
  .strict();
export type WasmJobSpec = z.infer<typeof WasmJobSpecSchema>;

export const JobSpecSchema = z.discriminatedUnion("runtime", [LlmJobSpecSchema, WasmJobSpecSchema]);
export type JobSpec = z.infer<typeof JobSpecSchema>;
export type RuntimeName = JobSpec["runtime"];
export const RUNTIMES = ["llm", "wasm"] as const;

/** POST /v1/jobs body: a spec plus how the consumer wants it placed. */
const placement = {
  constraints: ConstraintsSchema.optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
};
export const SubmitJobSchema = z.discriminatedUnion("runtime", [
  LlmJobSpecSchema.extend(placement),
  WasmJobSpecSchema.extend(placement),
]);
export type SubmitJob = z.infer<typeof SubmitJobSchema>;
/** what a client may send: fields with defaults are optional */
export type SubmitJobInput = z.input<typeof SubmitJobSchema>;

export const LlmOutputSchema = z
  .object({
    text: z.string(),
    tokens: z.array(z.number().int().nonnegative()),
    /** natural-log probability of each emitted token under the model */
    logprobs: z.array(z.number()),
    finishReason: z.enum(["stop", "length"]),
  })
  .strict();
export type LlmOutput = z.infer<typeof LlmOutputSchema>;

/**
 * Most bytes a WASM job may return. A result travels as base64 (4/3 the size) inside one
 * WebSocket frame, and the gateway accepts frames of at most 64 MiB; an audit lease carries
 * the output and the job's input (up to 16 MiB of base64) together. 16 MiB of output (about
 * 21.3 MiB of base64) leaves room for both, and for the gateway storing and serving it.
 * A larger output must go elsewhere (a future blob upload), not through the result frame.
 */
export const MAX_WASM_OUTPUT_BYTES = 16 * 1024 * 1024;
/** base64 characters of MAX_WASM_OUTPUT_BYTES, padding included */
export const MAX_WASM_OUTPUT_BASE64 = 4 * Math.ceil(MAX_WASM_OUTPUT_BYTES / 3);

/** Most characters of a WASM trap's message in an output. */
export const MAX_WASM_TRAP_CHARS = 1_000;

/**
 * A WASM job's output: the bytes its `run` returned (base64), or none when the job stopped at its
 * own fault, the same on every node: `outOfFuel`, it burned all the fuel its limit allowed (core's
 * fuelLimit); `trap`, it trapped (or broke the ABI) after burning some, and why. Fuel is an exact
 * instruction count, so the node signs either as a result, billed the fuel burned, and an audit's
 * re-run must stop alike (the trap's wording, which engines may phrase differently, is not compared).
 */
export const WasmOutputSchema = z
  .object({
    data: z.string().max(MAX_WASM_OUTPUT_BASE64),
    outOfFuel: z.literal(true).optional(),
    trap: z.string().min(1).max(MAX_WASM_TRAP_CHARS).optional(),
  })
  .strict()
  .refine((o) => (o.outOfFuel !== true && o.trap === undefined) || o.data === "", {
    message: "an output that ran out of fuel or trapped has no data",
  })
  .refine((o) => o.outOfFuel !== true || o.trap === undefined, {
    message: "an output ran out of fuel or trapped, not both",
  });
export type WasmOutput = z.infer<typeof WasmOutputSchema>;

export const JobOutputSchema = z.union([LlmOutputSchema, WasmOutputSchema]);
export type JobOutput = z.infer<typeof JobOutputSchema>;

export const JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The longest a `GET /v1/jobs/:id?wait=` long-poll may hold, ms. */
export const MAX_JOB_WAIT_MS = 300_000;
