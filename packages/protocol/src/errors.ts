// Typed errors with a stable code and HTTP status. The gateway turns any of them into
// OpenAI's error shape in one place; clients (SDK, CLI) turn that shape back into these.
export type OpenAIErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "conflict_error"
  | "rate_limit_error"
  // what OpenAI's 429 for too many requests carries as its type
  | "requests"
  | "insufficient_quota"
  | "server_error"
  | "service_unavailable";

export class TesseraError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: OpenAIErrorType,
    readonly param: string | null = null,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toOpenAI(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export class InvalidRequest extends TesseraError {
  constructor(message: string, param: string | null = null, details?: unknown) {
    super("invalid_request", 400, message, "invalid_request_error", param, details);
  }
}
// Unauthenticated, UnknownModel and RateLimited carry OpenAI's exact type and code: clients branch
// on them (a chat UI that "verifies" a key, a retry loop that waits on rate_limit_exceeded).
export class Unauthenticated extends TesseraError {
  constructor(message = "Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.") {
    super("invalid_api_key", 401, message, "invalid_request_error");
  }
}
export class InsufficientBalance extends TesseraError {
  /** `asks` says what wants the money ("This withdrawal asks for"), `account` whose it is */
  // private fields: a bigint property would make JSON.stringify of the error throw
  readonly #available: bigint;
  constructor(needed: bigint, available: bigint, asks = "This job may cost up to", account = "the account") {
    super(
      "insufficient_balance",
      402,
      `${asks} ${needed} nc but ${account} has ${available} nc available.`,
      "insufficient_quota",
    );
    this.#available = available;
  }

  /** what the account could cover when this was thrown */
  get available(): bigint {
    return this.#available;
  }
}
export class NotFound extends TesseraError {
  constructor(what: string, id: string, param: string | null = null) {
    super(`${what}_not_found`, 404, `No ${what} '${id}'.`, "not_found_error", param);
  }
}
export class UnknownModel extends TesseraError {
  constructor(model: string) {
    super(
      "model_not_found",
      404,
      `The model '${model}' is not offered by any provider.`,
      "invalid_request_error",
      "model",
    );
  }
}
/** How a provider's failure reason starts when the prompt leaves no room for the output cap: the
 * gateway answers it as OpenAI's context_length_exceeded. */
export const PROMPT_TOO_LONG = "prompt too long: ";
/** OpenAI's answer to a request that cannot fit the model's context. */
export class ContextLengthExceeded extends TesseraError {
  constructor(message: string, param: string) {
    super("context_length_exceeded", 400, message, "invalid_request_error", param);
  }
}
export class IdempotencyConflict extends TesseraError {
  constructor(key: string, param = "idempotencyKey") {
    super(
      "idempotency_conflict",
      409,
      `Idempotency key '${key}' was already used with a different request body.`,
      "conflict_error",
      param,
    );
  }
}
export class InvalidState extends TesseraError {
  constructor(message: string) {
    super("invalid_state", 409, message, "conflict_error");
  }
}
export class PayloadTooLarge extends TesseraError {
  constructor(limit: number) {
    super("payload_too_large", 413, `Request body exceeds the limit of ${limit} bytes.`, "invalid_request_error");
  }
}
export class RateLimited extends TesseraError {
  constructor(retryAfterMs: number) {
    super("rate_limit_exceeded", 429, `Too many requests; retry in ${Math.ceil(retryAfterMs / 1000)} s.`, "requests");
  }
}
export class NoCapacity extends TesseraError {
  constructor(message: string) {
    super("no_capacity", 503, message, "service_unavailable");
  }
}
export class LeaseExpired extends TesseraError {
  constructor(jobId: string, attempt: number) {
    super("lease_expired", 409, `Lease for job ${jobId} attempt ${attempt} is not current.`, "conflict_error");
  }
}

/** Rebuilds a typed error from an OpenAI-shaped error body (used by clients). */
export function errorFromBody(status: number, body: unknown): TesseraError {
  const e = (body as { error?: { message?: string; type?: string; param?: string | null; code?: string } })?.error;
  return new TesseraError(
    e?.code ?? `http_${status}`,
    status,
    e?.message ?? `HTTP ${status}`,
    (e?.type as OpenAIErrorType) ?? "server_error",
    e?.param ?? null,
  );
}
