// Errors that mean the store cannot be reached or written right now (PostgreSQL gone or
// restarting, the disk full), as opposed to a fault in the request or the gateway: a read that
// meets one answers 503, which a client retries, rather than 500. A failed commit still ends the
// process (engine.ts): its outcome may be unknown, and a restart recovers from what was stored.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);
const SQLITE_CODES = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN)/;
/** PostgreSQL classes 08 (connection exception), 53 (insufficient resources), 57P (operator intervention) */
const PG_CODES = /^(08|53|57P)/;

export function storeUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (NETWORK_CODES.has(code) || SQLITE_CODES.test(code) || PG_CODES.test(code)))
    return true;
  // node-postgres reports a dropped or unobtainable connection without a code
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    err.message,
  );
}
