// OpenAI-compatible chat and text completions. Each request becomes an interactive LLM job;
// `stream: true` forwards tokens as server-sent events as the provider produces them.
import { randomInt } from "node:crypto";
import type { ServerResponse } from "node:http";
import { JOB_AT_FAULT, type JobRecord, OUTPRICED } from "@tessera/core";
import {
  type ChatCompletionRequest,
  ChatCompletionRequestSchema,
  type CompletionRequest,
  CompletionRequestSchema,
  ContextLengthExceeded,
  canonicalHash,
  chatMessageText,
  InvalidRequest,
  type LlmJobSpec,
  LlmJobSpecSchema,
  type LlmOutput,
  NoCapacity,
  PROMPT_TOO_LONG,
  TesseraError,
} from "@tessera/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { outputCapError } from "../engine/admission.js";
import type { JobEvent } from "../engine/events.js";
import { parse } from "../errors.js";
import type { RouteContext } from "./context.js";
import { idempotencyHeader } from "./idempotency.js";
import { keyBeforeBody } from "./key-first.js";
import { resolveModel } from "./models.js";
import { waitForJob } from "./wait.js";

/** Output cap when a request sets none: OpenAI documents 16 for the legacy completions endpoint. */
const DEFAULT_MAX_TOKENS = { chat: 512, completion: 16 } as const;

export type Kind = "chat" | "completion";

/**
 * OpenAI takes any integer seed; a job's is a 32-bit unsigned integer. Reduced modulo 2^32 (so
 * -1 is 4294967295 and 2^32 + 5 is 5): the same request always gets the same job seed.
 */
export function jobSeed(seed: number): number {
  const m = 2 ** 32;
  return ((seed % m) + m) % m;
}

/** also used for the lines of a batch (batch/lines.ts) */
export function toSpec(
  ctx: RouteContext,
  kind: Kind,
  body: ChatCompletionRequest | CompletionRequest,
): { spec: LlmJobSpec; name: string } {
  // /v1/completions' logprobs: 0 still asks for the chosen tokens' logprobs (OpenAI returns up to
  // logprobs + 1 per token); only null, and chat's false, ask for none
  if (body.logprobs != null && body.logprobs !== false)
    throw new InvalidRequest(
      "logprobs are not returned by the OpenAI endpoints; the native job API returns them in output.logprobs.",
      "logprobs",
    );
  if (body.stream_options != null && body.stream !== true)
    throw new InvalidRequest("stream_options is only allowed when stream is true.", "stream_options");
  const model = resolveModel(ctx.engine, body.model);
  // top_p 0 keeps only the likeliest token, which is greedy decoding; the job's topP must be > 0
  const temperature = body.top_p === 0 ? 0 : (body.temperature ?? 1);
  const seed = body.seed == null ? undefined : jobSeed(body.seed);
  const maxCompletionTokens = "max_completion_tokens" in body ? body.max_completion_tokens : undefined;
  // OpenAI refuses the deprecated max_tokens beside its replacement; honouring one of two
  // different caps would bill (or cut) the answer at a cap the client may not have meant.
  // The same cap under both names says one thing, and is taken.
  if (maxCompletionTokens != null && body.max_tokens != null && maxCompletionTokens !== body.max_tokens)
    throw new TesseraError(
      "invalid_parameter_combination",
      400,
      "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported (unless they are equal): max_tokens is the deprecated name of max_completion_tokens; send one.",
      "invalid_request_error",
      "max_tokens",
    );
  const maxTokens = maxCompletionTokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS[kind];
  const stop = body.stop == null ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop];
  const input =
    kind === "chat"
      ? {
          messages: (body as ChatCompletionRequest).messages.map((m) => ({
            role: m.role,
            content: chatMessageText(m),
          })),
        }
      : { prompt: [(body as CompletionRequest).prompt].flat()[0] as string };
  // Providers refuse a lease whose job breaks the job schema, so no request may build one; the
  // OpenAI schema carries the same limits and this is what catches a gap between the two.
  const spec = parse(LlmJobSpecSchema, {
    runtime: "llm",
    model: model.id,
    input,
    params: {
      temperature,
      // sampled requests get a seed so that a retry elsewhere, and an audit, reproduce them
      ...(temperature > 0 ? { seed: seed ?? randomInt(2 ** 31) } : seed !== undefined ? { seed } : {}),
      ...(body.top_p ? { topP: body.top_p } : {}),
      ...(stop ? { stop } : {}),
    },
    limits: { maxOutputTokens: maxTokens },
  });
  const maxTokensParam =
    "max_completion_tokens" in body && body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  const tooLong = outputCapError(spec, ctx.engine.models, maxTokensParam);
  if (tooLong) throw tooLong;
  return { name: model.name, spec };
}

function usage(job: JobRecord) {
  const u = job.units;
  return {
    prompt_tokens: u?.inputTokens ?? 0,
    completion_tokens: u?.outputTokens ?? 0,
    total_tokens: (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0),
    // as OpenAI sends them; no prompt cache, reasoning, audio or predictions here
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Which node answered, as OpenAI's system_fingerprint says which backend did; null before a lease. */
function fingerprint(job: JobRecord): string | null {
  return job.providerId ? `fp_${job.providerId.slice(0, 12)}` : null;
}

function tesseraExtras(job: JobRecord) {
  return {
    job_id: job.id,
    provider: job.providerId,
    cost: job.cost?.toString() ?? null,
    standard_units: job.units?.standardUnits ?? null,
    output_hash: job.outputHash,
    signature: job.signature,
  };
}

export function finalError(job: JobRecord): TesseraError {
  if (job.status === "cancelled")
    return new TesseraError("job_cancelled", 409, `The job ${job.id} was cancelled.`, "conflict_error");
  if (job.status === "failed" && job.error?.startsWith(`${JOB_AT_FAULT}${PROMPT_TOO_LONG}`))
    return new ContextLengthExceeded(
      `This model's context cannot hold the request: ${job.error.slice(JOB_AT_FAULT.length)}. Shorten the prompt or set max_tokens lower.`,
      "messages" in job.spec.input ? "messages" : "prompt",
    );
  if (job.status === "failed" && job.error?.startsWith(JOB_AT_FAULT))
    return new TesseraError("invalid_job", 400, `The job ${job.id} failed: ${job.error}`, "invalid_request_error");
  if (job.status === "failed" && (job.error?.includes("before its deadline") || job.error?.startsWith(OUTPRICED)))
    return new TesseraError("no_capacity", 503, job.error, "service_unavailable");
  return new TesseraError(
    "job_failed",
    502,
    `The job ${job.id} ${job.status}: ${job.error ?? "unknown reason"}`,
    "server_error",
  );
}

export function completionBody(kind: Kind, job: JobRecord, name: string) {
  const out = job.output as LlmOutput;
  const created = Math.floor(job.createdAt / 1000);
  if (kind === "chat") {
    return {
      id: `chatcmpl-${job.id}`,
      object: "chat.completion",
      created,
      model: name,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: out.text, refusal: null },
          logprobs: null,
          finish_reason: out.finishReason,
        },
      ],
      usage: usage(job),
      system_fingerprint: fingerprint(job),
      tessera: tesseraExtras(job),
    };
  }
  return {
    id: `cmpl-${job.id}`,
    object: "text_completion",
    created,
    model: name,
    choices: [{ index: 0, text: out.text, logprobs: null, finish_reason: out.finishReason }],
    usage: usage(job),
    system_fingerprint: fingerprint(job),
    tessera: tesseraExtras(job),
  };
}

function streamChunk(
  kind: Kind,
  job: JobRecord,
  name: string,
  text: string | null,
  finish: string | null,
  first: boolean,
  includeUsage: boolean,
) {
  const created = Math.floor(job.createdAt / 1000);
  // with include_usage, OpenAI gives every chunk a usage field, null but in the last one
  const usageField = includeUsage ? { usage: null } : {};
  if (kind === "chat") {
    const delta: Record<string, string> = {};
    if (first) delta.role = "assistant";
    if (text !== null) delta.content = text;
    return {
      id: `chatcmpl-${job.id}`,
      object: "chat.completion.chunk",
      created,
      model: name,
      system_fingerprint: fingerprint(job),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    };
  }
  return {
    id: `cmpl-${job.id}`,
    object: "text_completion",
    created,
    model: name,
    system_fingerprint: fingerprint(job),
    choices: [{ index: 0, text: text ?? "", logprobs: null, finish_reason: finish }],
    ...usageField,
  };
}

/**
 * Stops the job when its client goes away before the answer is complete, as OpenAI stops
 * generating: the provider would work for nobody. A stream's client is billed for the tokens it
 * was sent (engine.cancel), otherwise the escrow is refunded. Not for a request with an
 * Idempotency-Key, whose retry is meant to find the job still there.
 */
function cancelIfAbandoned(ctx: RouteContext, res: ServerResponse, job: JobRecord, idempotent: boolean): void {
  if (idempotent) return;
  res.once("close", () => {
    if (res.writableFinished || !ctx.engine.activeJob(job.id)) return;
    ctx.engine.cancel(job.consumerId, job.id).catch((err: unknown) => {
      ctx.log.warn({ err, jobId: job.id }, "cancelling the job of a closed request failed");
    });
  });
}

async function stream(
  ctx: RouteContext,
  req: FastifyRequest,
  reply: FastifyReply,
  kind: Kind,
  job: JobRecord,
  name: string,
  includeUsage: boolean,
  idempotent: boolean,
) {
  reply.hijack();
  const res = reply.raw;
  // a hijacked reply writes none of the headers hooks set on it (CORS, rate limits): carry them over
  for (const [key, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(key, value);
  // The status line waits for the first text: a job that fails before producing any (a prompt
  // that does not fit the context, no capacity before the deadline) is answered with its HTTP
  // status and error body, as a non-streamed request would be.
  const open = () => {
    if (res.headersSent) return;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-tessera-job-id": job.id,
      "x-request-id": req.id,
    });
  };
  const write = (obj: unknown) => {
    open();
    res.write(`data: ${JSON.stringify(obj)}\n\n`);
  };
  let first = true;
  // An idempotent replay that finds its job running has missed the first chunks, and one that
  // finds it finished gets none: both are sent the text at the end instead of chunk by chunk.
  const live = job.status === "queued";
  let sent = "";
  cancelIfAbandoned(ctx, res, job, idempotent);
  await new Promise<void>((resolve) => {
    const onEvent = (e: JobEvent) => {
      if (e.type === "chunk") {
        if (!live) return;
        // the job as it is now, leased: its chunks name the node producing them
        write(streamChunk(kind, ctx.engine.activeJob(job.id) ?? job, name, e.text, null, first, includeUsage));
        sent += e.text;
        first = false;
        return;
      }
      const done = e.job;
      if (done.status === "completed") {
        const out = done.output as LlmOutput;
        const rest = out.text.startsWith(sent) ? out.text.slice(sent.length) : "";
        if (rest) {
          write(streamChunk(kind, done, name, rest, null, first, includeUsage));
          first = false;
        }
        write(streamChunk(kind, done, name, null, out.finishReason, first, includeUsage));
        if (includeUsage)
          write({
            ...streamChunk(kind, done, name, null, null, false, false),
            choices: [],
            usage: usage(done),
            tessera: tesseraExtras(done),
          });
        res.write("data: [DONE]\n\n");
      } else if (res.headersSent) {
        write(finalError(done).toOpenAI());
        res.write("data: [DONE]\n\n");
      } else {
        const err = finalError(done);
        res.writeHead(err.status, {
          "content-type": "application/json; charset=utf-8",
          "x-tessera-job-id": job.id,
          "x-request-id": req.id,
        });
        res.write(JSON.stringify(err.toOpenAI()));
      }
      res.end();
      off();
      resolve();
    };
    const off = ctx.engine.events.on(job.id, onEvent);
    // an idempotent replay may name a job that has already finished
    if (!ctx.engine.activeJob(job.id))
      void ctx.store.getJob(job.id).then((j) => j && onEvent({ type: "done", job: j }));
    res.on("close", () => {
      off();
      resolve();
    });
  });
}

export function openaiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const handler = (kind: Kind) => async (req: FastifyRequest, reply: FastifyReply) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const body =
      kind === "chat" ? parse(ChatCompletionRequestSchema, req.body) : parse(CompletionRequestSchema, req.body);
    const { spec, name } = toSpec(ctx, kind, body);
    const header = idempotencyHeader(req);
    const job = await ctx.engine
      .submit({
        consumerId,
        spec,
        constraints: {},
        idempotencyKey: header,
        idempotencyParam: "Idempotency-Key",
        requestHash: canonicalHash({ kind, body }),
        jobClass: "interactive",
        deadlineMs: ctx.config.syncDeadlineMs,
        stream: body.stream === true,
      })
      .catch((err: unknown) => {
        // the native API's way out (a price ceiling queues the job) is nothing an OpenAI request can say
        if (err instanceof NoCapacity)
          throw new NoCapacity(`No provider serving the model '${name}' is online right now; retry shortly.`);
        throw err;
      });
    const idempotent = header !== undefined;
    if (body.stream)
      return stream(ctx, req, reply, kind, job, name, body.stream_options?.include_usage === true, idempotent);
    // as a stream's headers do: which job answered, on a failure too (the job keeps its trail)
    reply.header("x-tessera-job-id", job.id);
    cancelIfAbandoned(ctx, reply.raw, job, idempotent);
    let done = await waitForJob(ctx, job.id, ctx.config.answerWaitMs, reply.raw);
    if (done.status === "queued" || done.status === "running") {
      // Out of time with the job unfinished: left running, it would be billed for an answer no one
      // gets. With an Idempotency-Key a retry collects it, so it stays; otherwise it is stopped.
      if (!idempotent) done = await ctx.engine.cancel(consumerId, job.id);
      if (done.status !== "completed")
        throw new TesseraError(
          "timeout",
          504,
          `The job ${job.id} did not finish within ${ctx.config.answerWaitMs} ms; ` +
            (idempotent
              ? "retry with the same Idempotency-Key to collect its answer."
              : "it was cancelled and its escrow refunded."),
          "server_error",
        );
    }
    if (done.status !== "completed") throw finalError(done);
    // as OpenAI does: how long the answer took here, queueing and generation included
    reply.header("openai-processing-ms", String(Math.round(reply.elapsedTime)));
    return completionBody(kind, done, name);
  };
  app.post("/v1/chat/completions", { onRequest: keyBeforeBody(ctx) }, handler("chat"));
  app.post("/v1/completions", { onRequest: keyBeforeBody(ctx) }, handler("completion"));
}
