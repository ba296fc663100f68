// The OpenAI request shapes we accept. Fields OpenAI defines but we cannot honour (n > 1,
// tools, logit_bias...) are rejected with a 400 naming the field rather than silently ignored;
// their "nothing asked" values (an empty tools list, response_format text) are accepted.
import { z } from "zod";

// the limits of the native job schema (job.ts), so that every accepted request builds a valid job
const StopString = z.string().min(1).max(256);
const StopSchema = z.union([StopString, z.array(StopString).max(4)]).nullish();
const MAX_TEXT = 1_000_000;

const ContentPartSchema = z
  .object({
    type: z.literal("text", "only text content parts are supported (no images, audio or files)"),
    text: z.string().max(MAX_TEXT),
  })
  .strict();

/** A field accepted only as null (or absent): what it would carry is not offered. */
const onlyNull = (what: string) =>
  z
    .unknown()
    .refine((v) => v === null, `${what} not supported`)
    .optional();
/** A list accepted only empty (or null, or absent). */
const onlyNone = (what: string) => z.array(z.unknown()).max(0, `${what} not supported`).nullish();

// What an assistant message we (or OpenAI) answered carries beside its text, so that a client can
// push choices[0].message back into the history as the openai README does; the client's stream
// helper adds `parsed`. Each is accepted in its "nothing" value; a tool call is refused like tools.
const ASSISTANT_ONLY = ["refusal", "tool_calls", "function_call", "audio", "annotations", "parsed"] as const;

type Content = string | { text: string }[] | null;
const contentText = (c: Content): string => (typeof c === "string" ? c : (c ?? []).map((p) => p.text).join(""));

export const OpenAIChatMessageSchema = z
  .object({
    role: z.enum(["system", "user", "assistant", "developer"]),
    // null: an assistant turn without text (OpenAI sends one beside tool calls, and clients
    // echo the history back as they got it)
    content: z.union([z.string().max(MAX_TEXT), z.array(ContentPartSchema).max(256), z.null()]),
    // OpenAI tells participants apart by name, which changes the answer; the job's chat template
    // has no place for it, so a name is refused rather than dropped (an empty one names no one)
    name: z
      .string()
      .max(0, "names are not supported: the chat template cannot tell participants apart; put the name in content")
      .nullish(),
    // a refusal is what the assistant said instead of content: it is the turn's text
    refusal: z.string().max(MAX_TEXT).nullish(),
    tool_calls: onlyNone("tool calls are"),
    function_call: onlyNull("function calls are"),
    audio: onlyNull("audio is"),
    annotations: onlyNone("annotations are"),
    parsed: onlyNull("parsed content is"),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.content === null && m.role !== "assistant")
      ctx.addIssue({ code: "custom", message: "content may be null only in an assistant message", path: ["content"] });
    if (m.role !== "assistant")
      for (const key of ASSISTANT_ONLY)
        if (m[key] !== undefined)
          ctx.addIssue({ code: "custom", message: "allowed only in an assistant message", path: [key] });
    if (m.refusal && contentText(m.content))
      ctx.addIssue({
        code: "custom",
        message: "an assistant message carries either content or a refusal, not both",
        path: ["refusal"],
      });
  });

/** A chat message's text: its content's, or an assistant's refusal. */
export function chatMessageText(m: z.infer<typeof OpenAIChatMessageSchema>): string {
  return contentText(m.content) || (m.refusal ?? "");
}

/** Accepts only the value that asks for nothing (an empty list or map), naming what is not offered. */
const onlyEmpty = <T extends z.ZodTypeAny>(schema: T, what: string) =>
  schema.refine((v) => Object.keys(v as object).length === 0, `${what} not supported`);

const common = {
  model: z.string().min(1).max(200),
  max_tokens: z.number().int().min(1).max(32_768).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  // 0 keeps only the likeliest token: greedy decoding (toSpec)
  top_p: z.number().min(0).max(1).nullish(),
  // any integer, as OpenAI takes; reduced into the job's 32-bit range by toSpec
  seed: z.number().refine(Number.isInteger, "seed must be an integer").nullish(),
  stop: StopSchema,
  stream: z.boolean().nullish(),
  stream_options: z
    .object({
      include_usage: z.boolean().optional(),
      // we never pad chunks to hide their length, whichever is asked
      include_obfuscation: z.boolean().optional(),
    })
    .strict()
    .nullish(),
  n: z.literal(1, "n > 1 is not supported: one choice per request; send n requests, or a batch, for more").nullish(),
  // who is asking and which requests share a prefix: hints for OpenAI's abuse checks and prompt
  // cache that do not change the answer (safety_identifier and prompt_cache_key replace user)
  user: z.string().max(256).nullish(),
  safety_identifier: z.string().max(256).nullish(),
  prompt_cache_key: z.string().max(256).nullish(),
  // penalties change the answer, and the job's sampler (which verifiers replay) has none
  presence_penalty: z.literal(0, "presence_penalty is not supported: only 0 (no penalty)").nullish(),
  frequency_penalty: z.literal(0, "frequency_penalty is not supported: only 0 (no penalty)").nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, "at most 16 key-value pairs")
    .nullish(),
};

export const ChatCompletionRequestSchema = z
  .object({
    ...common,
    messages: z.array(OpenAIChatMessageSchema).min(1).max(1024),
    max_completion_tokens: z.number().int().min(1).max(32_768).nullish(),
    logprobs: z.boolean().nullish(),
    // what clients send as defaults, accepted when they ask for nothing we lack
    top_logprobs: z
      .literal(0, "logprobs are not returned by the OpenAI endpoints; the native job API returns them")
      .nullish(),
    response_format: z
      .object({
        type: z.literal("text", "JSON mode and structured outputs are not supported: only the text response format"),
      })
      .strict()
      .nullish(),
    modalities: z.array(z.literal("text")).max(1).nullish(),
    audio: onlyNull("audio output is"),
    prediction: onlyNull("predicted outputs are"),
    tools: onlyEmpty(z.array(z.unknown()), "tools are").nullish(),
    tool_choice: z
      .enum(["none", "auto"], "tools are not supported: tool_choice may only be 'none' or 'auto'")
      .nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    logit_bias: onlyEmpty(z.record(z.string(), z.number()), "logit_bias is").nullish(),
    // every job is stored by the gateway anyway (GET /v1/jobs/:id)
    store: z.boolean().nullish(),
    service_tier: z.enum(["auto", "default"]).nullish(),
  })
  .strict();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = z
  .object({
    ...common,
    // one prompt per request; a list of one is what some clients (LangChain's OpenAI LLM) send
    prompt: z.union([
      z.string().max(MAX_TEXT),
      z
        .array(z.string("a prompt is text: token-id prompts are not supported").max(MAX_TEXT))
        .length(
          1,
          "one text prompt per request: send each prompt as its own request, or many in a batch (token-id prompts are not supported)",
        ),
    ]),
    logprobs: z.number().int().min(0).max(5).nullish(),
    echo: z.literal(false, "echo is not supported: only false").nullish(),
    best_of: z.literal(1, "best_of > 1 is not supported: one completion is generated per request").nullish(),
    suffix: z.null().optional(),
    logit_bias: onlyEmpty(z.record(z.string(), z.number()), "logit_bias is").nullish(),
  })
  .strict();
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;
