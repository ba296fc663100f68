// The one place where failures become HTTP answers in OpenAI's error shape.
import { InvalidRequest, PayloadTooLarge, RateLimited, TesseraError } from "@tessera/protocol";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { ZodError } from "zod";

export function zodError(err: ZodError): InvalidRequest {
  const issue = err.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.join(".") : null;
  const message = issue ? `${param ? `${param}: ` : ""}${issue.message}` : "invalid request";
  return new InvalidRequest(message, param, err.issues.slice(0, 5));
}

/** Parses with a zod schema, turning failure into a 400 that names the offending field. */
export function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  value: unknown,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw zodError(r.error);
  return r.data;
}

export function toTesseraError(err: unknown, bodyLimit: number): TesseraError {
  if (err instanceof TesseraError) return err;
  const f = err as FastifyError;
  if (f.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new PayloadTooLarge(bodyLimit);
  if (f.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    return new InvalidRequest(`Unsupported Content-Type '${(err as { contentType?: string }).contentType ?? ""}'.`);
  if (f.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return new InvalidRequest("The request body is empty.");
  if (f.statusCode === 429) return new RateLimited(1000);
  if (f.statusCode && f.statusCode >= 400 && f.statusCode < 500) return new InvalidRequest(f.message || "bad request");
  return new TesseraError("internal_error", 500, "The gateway failed to handle the request.", "server_error");
}

export function sendError(reply: FastifyReply, err: TesseraError): FastifyReply {
  return reply.status(err.status).type("application/json").send(err.toOpenAI());
}

export function errorHandler(bodyLimit: number) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const e = toTesseraError(err, bodyLimit);
    if (e.status >= 500) request.log.error({ err }, "request failed");
    return sendError(reply, e);
  };
}
