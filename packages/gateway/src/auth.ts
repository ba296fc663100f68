// Consumer authentication by API key. Keys are random secrets shown once; the store holds
// only their sha256. Lookups are cached briefly so a hot path costs no query per request,
// and a revocation made through this gateway takes effect at once.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256Hex, TesseraError, Unauthenticated } from "@tessera/protocol";
import type { Store } from "@tessera/store";

export function newApiKey(): { key: string; hash: string } {
  const key = `tsk_${randomBytes(32).toString("base64url")}`;
  return { key, hash: sha256Hex(key) };
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

/** Whether an Authorization header carries the gateway's admin key (hashes compared in constant time). */
export function isAdminHeader(adminKey: string | undefined, header: string | undefined): boolean {
  const token = bearerToken(header);
  if (!adminKey || !token) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(token)), Buffer.from(sha256Hex(adminKey)));
}

/** Throws unless the header carries the admin key: 403 when the gateway has none, 401 when it is wrong. */
export function requireAdminHeader(adminKey: string | undefined, header: string | undefined): void {
  if (!adminKey)
    throw new TesseraError("admin_disabled", 403, "This gateway has no admin key configured.", "permission_error");
  if (!isAdminHeader(adminKey, header)) throw new Unauthenticated("Invalid admin key.");
}

/**
 * Whose budget a request spends: its consumer's however the header is spelled, the operator's, or,
 * with no key or one that is not a key, its address's, so that made-up keys get no budget each.
 */
export async function rateLimitKey(
  auth: Authenticator,
  adminKey: string | undefined,
  header: string | undefined,
  ip: string,
): Promise<string> {
  if (isAdminHeader(adminKey, header)) return "admin";
  if (bearerToken(header)) {
    try {
      return `consumer:${await auth.consumerFor(header)}`;
    } catch {
      // not a key this gateway knows: counted by address
    }
  }
  return `ip:${ip}`;
}

const TTL_MS = 5_000;

export class Authenticator {
  private readonly cache = new Map<string, { consumerId: string | null; until: number }>();

  constructor(private readonly store: Store) {}

  async consumerFor(header: string | undefined): Promise<string> {
    const token = bearerToken(header);
    if (!token || token.length > 200) throw new Unauthenticated();
    const hash = sha256Hex(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) {
      if (!hit.consumerId) throw new Unauthenticated();
      return hit.consumerId;
    }
    const rec = await this.store.findApiKey(hash);
    const consumerId = rec && rec.revokedAt === null ? rec.consumerId : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { consumerId, until: now + TTL_MS });
    if (!consumerId) throw new Unauthenticated();
    return consumerId;
  }

  forget(hash: string): void {
    this.cache.delete(hash);
  }
}
