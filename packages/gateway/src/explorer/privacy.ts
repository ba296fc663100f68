// Who may see which consumer behind the public explorer. A consumer's identity and its ledger
// accounts are shown to that consumer (its API key) and to the operator (the admin key), never to
// the public. Two reasons: consumers' activity is their own business, and canary jobs are funded
// by a consumer account of the gateway's: a provider that could look up who submitted the job it
// was leased could recognise every canary after learning that one id, and cheat on the rest.
// Totals, providers, prices and every job's trail stay public.
import { TesseraError } from "@tessera/protocol";
import type { FastifyRequest } from "fastify";
import { isAdminHeader } from "../auth.js";
import type { RouteContext } from "../routes/context.js";

export type Viewer = { kind: "operator" } | { kind: "consumer"; id: string } | { kind: "public" };

export const PUBLIC: Viewer = { kind: "public" };

/** Whether `viewer` may see that `consumerId` is behind something. */
export function seesConsumer(viewer: Viewer, consumerId: string): boolean {
  return viewer.kind === "operator" || (viewer.kind === "consumer" && viewer.id === consumerId);
}

const CONSUMER_ACCOUNT = /^consumer:([^:]+):(.+)$/;

/** The consumer an account belongs to (`consumer:<id>:<purpose>`), if any. */
export function accountConsumer(account: string): string | undefined {
  return CONSUMER_ACCOUNT.exec(account)?.[1];
}

/** The account's name as `viewer` may see it: another consumer's id becomes `*`. */
export function accountAs(viewer: Viewer, account: string): string {
  const m = CONSUMER_ACCOUNT.exec(account);
  if (!m || seesConsumer(viewer, m[1] as string)) return account;
  return `consumer:*:${m[2]}`;
}

/** A consumer id as `viewer` may see it: null when hidden. */
export function consumerAs(viewer: Viewer, consumerId: string): string | null {
  return seesConsumer(viewer, consumerId) ? consumerId : null;
}

export class ConsumerHidden extends TesseraError {
  constructor(param: string) {
    super(
      "consumer_hidden",
      403,
      "Consumers are private: filter by a consumer or its accounts only with that consumer's API key (or the admin key).",
      "permission_error",
      param,
    );
  }
}

/** Resolves the caller from its bearer token: the admin key, a consumer's API key, or nobody. */
export function viewerResolver(ctx: RouteContext): (req: FastifyRequest) => Promise<Viewer> {
  return async (req) => {
    if (!req.headers.authorization) return PUBLIC;
    if (isAdminHeader(ctx.config.adminKey, req.headers.authorization)) return { kind: "operator" };
    const id = await ctx.auth.consumerFor(req.headers.authorization).catch(() => undefined);
    return id === undefined ? PUBLIC : { kind: "consumer", id };
  };
}
