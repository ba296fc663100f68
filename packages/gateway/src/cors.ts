// Cross-origin access for the consumer API, so that browser clients (the openai SDK with
// dangerouslyAllowBrowser, web chat UIs) can call it. Admin, provider and settlement routes stay closed.
import cors, { type FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** The routes a consumer's browser may call: the OpenAI API and the native job API. */
const CONSUMER_PATHS = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/models",
  "/v1/files",
  "/v1/batches",
  "/v1/jobs",
  "/v1/account",
  "/v1/blobs",
];

// What the openai client sends (OpenAI-Organization, -Project, -Beta; X-Stainless-* describing
// itself) besides the key, the body's type and our Idempotency-Key. A preflight is answered with
// the requested headers among these, since Access-Control-Allow-Headers takes no wildcard prefix.
const ALLOWED_HEADER = /^(authorization|content-type|idempotency-key|openai-[a-z0-9-]+|x-stainless-[a-z0-9-]+)$/;
const DEFAULT_ALLOWED = "authorization, content-type, idempotency-key";

/** What a page may read from a response (the openai client reads the request id and rate limits). */
const EXPOSED_HEADERS = [
  "x-request-id",
  "x-tessera-job-id",
  "openai-processing-ms",
  "retry-after",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
];

export function isConsumerPath(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return CONSUMER_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

function allowedHeaders(req: FastifyRequest): string {
  const asked = req.headers["access-control-request-headers"];
  if (typeof asked !== "string") return DEFAULT_ALLOWED;
  const ok = asked
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => ALLOWED_HEADER.test(h));
  return ok.length > 0 ? ok.join(", ") : DEFAULT_ALLOWED;
}

export async function registerCors(app: FastifyInstance): Promise<void> {
  await app.register(cors, {
    delegator: (req, done) => {
      if (!isConsumerPath(req.url)) return done(null, { origin: false });
      // any origin: the API is authenticated by a bearer key, never by cookies (no credentials)
      const options: FastifyCorsOptions = {
        origin: "*",
        methods: ["GET", "HEAD", "POST", "DELETE"],
        allowedHeaders: allowedHeaders(req),
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      };
      done(null, options);
    },
  });
}
