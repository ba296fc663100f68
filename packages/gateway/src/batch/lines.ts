// One line of a batch: parsing an input line into a job to submit, and writing output and
// error lines in OpenAI's batch format. A line that cannot be parsed becomes an error line with
// a reason; it never fails the batch.
import type { JobRecord } from "@tessera/core";
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  type Constraints,
  canonicalHash,
  type JobSpec,
  SubmitJobSchema,
  TesseraError,
} from "@tessera/protocol";
import type { BatchEndpoint } from "@tessera/store";
import { z } from "zod";
import { zodError } from "../errors.js";
import type { RouteContext } from "../routes/context.js";
import { completionBody, finalError, toSpec } from "../routes/openai.js";
import { jobView } from "../views.js";

const LineSchema = z
  .object({
    custom_id: z.string().min(1).max(512),
    method: z.literal("POST"),
    url: z.enum(["/v1/chat/completions", "/v1/completions", "/v1/jobs"]),
    body: z.record(z.string(), z.unknown()),
  })
  .strict();

export interface ParsedLine {
  customId: string;
  spec: JobSpec;
  constraints: Constraints;
  /** the public model name for OpenAI-shaped output */
  name: string;
  requestHash: string;
}

export type LineParse = { ok: true; line: ParsedLine } | { ok: false; customId: string | null; error: TesseraError };

function lineError(message: string, param: string | null = null): TesseraError {
  return new TesseraError("invalid_request", 400, message, "invalid_request_error", param);
}

/** Parses one input line for a batch whose endpoint is `endpoint`. */
export function parseLine(ctx: RouteContext, endpoint: BatchEndpoint, text: string, batchId: string): LineParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, customId: null, error: lineError("The line is not valid JSON.") };
  }
  const customId =
    raw && typeof raw === "object" && typeof (raw as { custom_id?: unknown }).custom_id === "string"
      ? (raw as { custom_id: string }).custom_id
      : null;
  const envelope = LineSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, customId, error: zodError(envelope.error) };
  const { url, body } = envelope.data;
  if (url !== endpoint)
    return {
      ok: false,
      customId,
      error: lineError(`The line's url ${url} is not the batch's endpoint ${endpoint}.`, "url"),
    };
  if (body.stream === true)
    return { ok: false, customId, error: lineError("Batch requests cannot stream.", "body.stream") };
  try {
    const requestHash = hashRequest(batchId, body);
    if (url === "/v1/jobs") {
      const r = SubmitJobSchema.safeParse(body);
      if (!r.success) throw zodError(r.error);
      const { constraints, idempotencyKey, ...spec } = r.data;
      if (idempotencyKey !== undefined)
        throw lineError("Batch lines get their idempotency from the batch.", "body.idempotencyKey");
      return {
        ok: true,
        line: { customId: envelope.data.custom_id, spec, constraints: constraints ?? {}, name: "", requestHash },
      };
    }
    const kind = url === "/v1/chat/completions" ? "chat" : "completion";
    const schema = kind === "chat" ? ChatCompletionRequestSchema : CompletionRequestSchema;
    const r = schema.safeParse(body);
    if (!r.success) throw zodError(r.error);
    const { spec, name } = toSpec(ctx, kind, r.data);
    return { ok: true, line: { customId: envelope.data.custom_id, spec, constraints: {}, name, requestHash } };
  } catch (e) {
    if (e instanceof TesseraError) return { ok: false, customId, error: e };
    throw e;
  }
}

/** What a line's idempotency is checked against; a body nested past the stack's depth (valid
 * JSON, which JSON.parse reads) cannot be canonicalised and is the line's error, not the batch's. */
function hashRequest(batchId: string, body: unknown): string {
  try {
    return canonicalHash({ batchId, body });
  } catch (e) {
    if (e instanceof RangeError) throw lineError("The line's body nests too deeply.", "body");
    throw e;
  }
}

/** `batch_req_<batch>_<line>`: the line number in the id is how a restart knows which lines are done. */
export function requestId(batchId: string, line: number): string {
  return `batch_req_${batchId.replace(/^batch_/, "")}_${line}`;
}

export function lineOfRequestId(id: unknown): number | undefined {
  if (typeof id !== "string") return undefined;
  const m = /_(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

export interface OutputLine {
  /** JSON text without the newline */
  text: string;
  ok: boolean;
  cost: bigint;
}

/** The output (completed) or error line for a finished job. */
export function jobLine(
  batchId: string,
  endpoint: BatchEndpoint,
  line: number,
  parsed: ParsedLine,
  job: JobRecord,
): OutputLine {
  const id = requestId(batchId, line);
  if (job.status === "completed") {
    const body =
      endpoint === "/v1/jobs"
        ? jobView(job)
        : completionBody(endpoint === "/v1/chat/completions" ? "chat" : "completion", job, parsed.name);
    const text = JSON.stringify({
      id,
      custom_id: parsed.customId,
      response: { status_code: 200, request_id: job.id, body },
      error: null,
    });
    return { text, ok: true, cost: job.cost ?? 0n };
  }
  const err = finalError(job);
  // a job that failed on a billed result (a WASM job that ran out of fuel) says what it cost, as an
  // output line does: readWritten counts it after a restart
  const cost = job.cost ?? 0n;
  const body = cost > 0n ? { ...err.toOpenAI(), tessera: { cost: cost.toString() } } : err.toOpenAI();
  const text = JSON.stringify({
    id,
    custom_id: parsed.customId,
    response: { status_code: err.status, request_id: job.id, body },
    error: null,
  });
  return { text, ok: false, cost };
}

/** An error line for a request that never became a job (malformed, unaffordable, cancelled, expired). */
export function errorLine(
  batchId: string,
  line: number,
  customId: string | null,
  code: string,
  message: string,
): OutputLine {
  const text = JSON.stringify({
    id: requestId(batchId, line),
    custom_id: customId,
    response: null,
    error: { code, message },
  });
  return { text, ok: false, cost: 0n };
}

/** What a line already written says, for rebuilding a batch's progress after a restart. */
export function readWritten(text: string): { line: number; cost: bigint } | undefined {
  let v: { id?: unknown; response?: { body?: { tessera?: { cost?: unknown }; cost?: unknown } } };
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const line = lineOfRequestId(v.id);
  if (line === undefined) return undefined;
  const body = v.response?.body;
  const cost = body?.tessera?.cost ?? body?.cost;
  return { line, cost: typeof cost === "string" && /^\d+$/.test(cost) ? BigInt(cost) : 0n };
}
