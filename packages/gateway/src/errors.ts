// The one place where failures become HTTP answers in OpenAI's error shape.
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { InvalidRequest, PayloadTooLarge, RateLimited, TesseraError } from "@tessera/protocol";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { ZodError } from "zod";
import { storeUnavailable } from "./store-errors.js";

type Issue = ZodError["issues"][number];

/**
 * A union's issue says only "Invalid input". When the value sent has the type of exactly one of
 * the union's shapes (a list where a string or a list of at most 4 is taken), that shape's own
 * issue is what the client needs: "stop: Too big: expected array to have <=4 items".
 */
function specific(issue: Issue): Issue {
  if (issue.code !== "invalid_union") return issue;
  const typeMatched = issue.errors.filter((branch) =>
    branch.some((i) => !(i.code === "invalid_type" && i.path.length === 0)),
  );
  const inner = typeMatched.length === 1 ? typeMatched[0]?.[0] : undefined;
  return inner ? specific({ ...inner, path: [...issue.path, ...inner.path] } as Issue) : issue;
}

export function zodError(err: ZodError): InvalidRequest {
  const issue = err.issues[0] && specific(err.issues[0]);
  // an unknown field is named by the field, not by the object that holds it
  const path = issue?.code === "unrecognized_keys" ? [...issue.path, ...issue.keys.slice(0, 1)] : (issue?.path ?? []);
  const param = path.length > 0 ? path.join(".") : null;
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

export function toTesseraError(err: unknown, request: FastifyRequest): TesseraError {
  if (err instanceof TesseraError) return err;
  const f = err as FastifyError;
  // the route's own limit (blobs take more than JSON bodies), else the server's
  if (f.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new PayloadTooLarge(request.routeOptions.bodyLimit ?? 0);
  if (f.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    return new InvalidRequest(`Unsupported Content-Type '${request.headers["content-type"] ?? ""}'.`);
  if (f.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return new InvalidRequest("The request body is empty.");
  if (f.statusCode === 429) return new RateLimited(1000);
  if (f.statusCode && f.statusCode >= 400 && f.statusCode < 500) return new InvalidRequest(f.message || "bad request");
  if (storeUnavailable(err))
    return new TesseraError(
      "store_unavailable",
      503,
      "The gateway's database cannot be reached right now; retry shortly.",
      "service_unavailable",
    );
  return new TesseraError("internal_error", 500, "The gateway failed to handle the request.", "server_error");
}

export function sendError(reply: FastifyReply, err: TesseraError): FastifyReply {
  return reply.status(err.status).type("application/json").send(err.toOpenAI());
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toTesseraError(err, request);
  if (e.status >= 500) request.log.error({ err }, "request failed");
  return sendError(reply, e);
}

/** Fastify's errors before routing (a URL it cannot decode), in OpenAI's shape. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, new InvalidRequest(err.message || "bad request"));
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers too large, a malformed
 * request line, a timeout), answered in OpenAI's shape on the raw socket.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "The request's headers are too large."]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "The request took too long to arrive."]
        : [400, "The request is not valid HTTP."];
  const body = JSON.stringify(new TesseraError("invalid_request", status, message, "invalid_request_error").toOpenAI());
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(err);
}
