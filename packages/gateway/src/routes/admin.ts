// Operator API: create consumers and keys, fund accounts, revoke keys, check the ledger.
// Guarded by the gateway's admin token; absent when no token is configured.
import { randomBytes, randomUUID } from "node:crypto";
import { checkInvariants, depositEvent } from "@tessera/core";
import { AmountSchema, IdempotencyConflict, NotFound, sha256Hex, TesseraError } from "@tessera/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { newApiKey, requireAdminHeader } from "../auth.js";
import { repeatsStoredEvent } from "../engine/replayed-event.js";
import { parse } from "../errors.js";
import type { RouteContext } from "./context.js";
import { adminBeforeBody } from "./key-first.js";

const CreateConsumer = z.object({ name: z.string().min(1).max(100), deposit: AmountSchema.optional() }).strict();
const Deposit = z
  .object({ consumerId: z.string().min(1).max(64), amount: AmountSchema, id: z.string().min(1).max(100).optional() })
  .strict();
const Revoke = z.object({ apiKey: z.string().min(1).max(200) }).strict();

export function adminRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const requireAdmin = (req: FastifyRequest) => requireAdminHeader(ctx.config.adminKey, req.headers.authorization);

  // with --settlement evm money enters only through the Escrow contract (settlement/chain-watch.ts)
  const refuseOffChainDeposit = () => {
    if (ctx.config.settlement.kind === "evm")
      throw new TesseraError(
        "deposits_on_chain",
        409,
        "This gateway settles on chain: deposit to the consumer's address in the Escrow contract (GET /v1/settlement/account).",
        "invalid_request_error",
      );
  };

  app.post("/v1/admin/consumers", { onRequest: adminBeforeBody(ctx) }, async (req, reply) => {
    requireAdmin(req);
    const body = parse(CreateConsumer, req.body);
    if (body.deposit) refuseOffChainDeposit();
    const now = Date.now();
    const id = `c_${randomBytes(8).toString("hex")}`;
    // the deposit first: one the ledger refuses (beyond its supply cap) leaves no consumer behind
    if (body.deposit) {
      const r = await ctx.engine.writer.write({
        ledger: depositEvent(`deposit:${randomUUID()}`, id, BigInt(body.deposit), now),
      });
      if (!r.ok) throw r.error;
    }
    await ctx.store.createConsumer({ id, name: body.name, createdAt: now });
    const { key, hash } = newApiKey();
    await ctx.store.createApiKey({ hash, consumerId: id, scopes: ["jobs"], createdAt: now, revokedAt: null });
    return reply.status(201).send({ object: "consumer", id, name: body.name, apiKey: key });
  });

  app.post("/v1/admin/deposits", { onRequest: adminBeforeBody(ctx) }, async (req, reply) => {
    requireAdmin(req);
    const body = parse(Deposit, req.body);
    refuseOffChainDeposit();
    if (!(await ctx.store.getConsumer(body.consumerId))) throw new NotFound("consumer", body.consumerId, "consumerId");
    const eventId = `deposit:${body.id ?? randomUUID()}`;
    const event = depositEvent(eventId, body.consumerId, BigInt(body.amount), Date.now());
    const r = await ctx.engine.writer.write({ ledger: event });
    if (!r.ok) throw r.error;
    // a replayed id is harmless only when it replays the same deposit
    if (!r.ledgerApplied && !(await repeatsStoredEvent(ctx.store, event)))
      throw new IdempotencyConflict(body.id ?? eventId, "id");
    return reply.status(201).send({ object: "deposit", id: eventId, applied: r.ledgerApplied });
  });

  app.post("/v1/admin/keys/revoke", { onRequest: adminBeforeBody(ctx) }, async (req) => {
    requireAdmin(req);
    const { apiKey } = parse(Revoke, req.body);
    const hash = sha256Hex(apiKey);
    if (!(await ctx.store.findApiKey(hash))) throw new NotFound("api_key", "(redacted)", "apiKey");
    await ctx.store.revokeApiKey(hash, Date.now());
    ctx.auth.forget(hash);
    return { object: "api_key", revoked: true };
  });

  app.get("/v1/admin/ledger", async (req) => {
    requireAdmin(req);
    await ctx.engine.writer.drain();
    const balances = await ctx.store.balances();
    const report = checkInvariants(balances);
    return {
      ok: report.ok,
      netDeposited: report.netDeposited.toString(),
      internalTotal: report.internalTotal.toString(),
      problems: report.problems,
      accounts: Object.fromEntries([...balances].map(([k, v]) => [k, v.toString()])),
    };
  });
}
