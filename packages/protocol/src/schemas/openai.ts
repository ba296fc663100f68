// The OpenAI request shapes we accept. Fields OpenAI defines but we cannot honour (n > 1,
// tools, logit_bias...) are rejected with a 400 naming the field rather than silently ignored.
import { z } from "zod";

// the limits of the native job schema (job.ts), so that every accepted request builds a valid job
const StopString = z.string().min(1).max(256);
const StopSchema = z.union([StopString, z.array(StopString).max(4)]).nullish();
const MAX_TEXT = 1_000_000;

const ContentPartSchema = z.object({ type: z.literal("text"), text: z.string().max(MAX_TEXT) }).strict();

export const OpenAIChatMessageSchema = z
  .object({
    role: z.enum(["system", "user", "assistant", "developer"]),
    content: z.union([z.string().max(MAX_TEXT), z.array(ContentPartSchema).max(256)]),
    name: z.string().max(64).optional(),
  })
  .strict();

const common = {
  model: z.string().min(1).max(200),
  max_tokens: z.number().int().min(1).max(32_768).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 32 - 1)
    .nullish(),
  stop: StopSchema,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullish(),
  n: z.literal(1).nullish(),
  user: z.string().max(256).optional(),
  presence_penalty: z.literal(0).nullish(),
  frequency_penalty: z.literal(0).nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, "at most 16 key-value pairs")
    .optional(),
};

export const ChatCompletionRequestSchema = z
  .object({
    ...common,
    messages: z.array(OpenAIChatMessageSchema).min(1).max(1024),
    max_completion_tokens: z.number().int().min(1).max(32_768).nullish(),
    logprobs: z.boolean().nullish(),
  })
  .strict();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = z
  .object({
    ...common,
    prompt: z.string().max(MAX_TEXT),
    logprobs: z.number().int().min(0).max(5).nullish(),
    echo: z.literal(false).nullish(),
  })
  .strict();
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;
