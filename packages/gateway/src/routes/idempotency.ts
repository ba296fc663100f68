// The Idempotency-Key header, held to the same limit as a native job's `idempotencyKey` field.
import { InvalidRequest } from "@tessera/protocol";
import type { FastifyRequest } from "fastify";

const MAX_KEY = 200;

export function idempotencyHeader(req: FastifyRequest): string | undefined {
  const key = req.headers["idempotency-key"];
  if (key === undefined) return undefined;
  // Node joins repeated headers with ", ", which would make two keys one that neither request sent
  const sent = req.raw.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "idempotency-key").length;
  if (sent > 1) throw new InvalidRequest("Send one Idempotency-Key header, not several.", "Idempotency-Key");
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY)
    throw new InvalidRequest(`The Idempotency-Key header must be 1 to ${MAX_KEY} characters.`, "Idempotency-Key");
  return key;
}
