import {
  AmountSchema,
  boundedCountSchema,
  canonicalHash,
  TesseraError,
  Unauthenticated,
  verifyNodeRequest,
} from "@tessera/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { isAdminHeader } from "../auth.js";
import { parse } from "../errors.js";
import type { RouteContext } from "../routes/context.js";
import { selfSignedRoutes } from "./self-signed-routes.js";
import { SignedOnce } from "./signed-once.js";
import type { RunningSettlement } from "./start.js";

const Id = z.string().min(1).max(128);
const Count = boundedCountSchema("count");
const Issue = z.object({ providerId: Id, supply: Count }).strict();
const Transfer = z.object({ providerId: Id, from: Id, to: Id, shares: Count }).strict();
const Claim = z.object({ providerId: Id, holder: Id }).strict();
const OwnIssue = z.object({ supply: Count }).strict();
const OwnTransfer = z.object({ to: Id, shares: Count }).strict();
const Withdraw = z
  .object({
    amount: AmountSchema,
    /** where the tokens go once withdrawn from the Escrow contract */
    to: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte address"),
  })
  .strict();

/** what a provider signs to call `method path` with `body` (the body's canonical hash binds it) */
export function nodePurpose(method: string, path: string, body?: unknown): string {
  return body === undefined ? `${method} ${path}` : `${method} ${path} ${canonicalHash(body)}`;
}

export function settlementRoutes(app: FastifyInstance, ctx: RouteContext, s: RunningSettlement): void {
  const requireAdmin = (req: FastifyRequest) => {
    if (!isAdminHeader(ctx.config.adminKey, req.headers.authorization)) throw new Unauthenticated("Invalid admin key.");
  };
  const once = new SignedOnce(Date.now());
  const requireNode = (req: FastifyRequest, body?: unknown): string => {
    const path = req.url.split("?")[0] ?? "";
    const now = Date.now();
    const node = verifyNodeRequest(nodePurpose(req.method, path, body), req.headers, now);
    if (!node) throw new Unauthenticated("Sign this request with the node key (x-tessera-node, -time, -signature).");
    if (req.method === "GET") return node;
    const verdict = once.take(req.headers, now);
    if (verdict === "before-start")
      throw new Unauthenticated("This request was signed before the gateway started: sign it again with the time now.");
    if (verdict === "replayed")
      throw new TesseraError(
        "request_replayed",
        409,
        "This signed request was already carried out: sign each request anew (x-tessera-time).",
        "invalid_request_error",
      );
    return node;
  };
  const localShares = () => {
    if (s.settlement.backend !== "local")
      throw new TesseraError(
        "shares_on_chain",
        409,
        "With --settlement evm node shares live in the NodeShares contract; issue, transfer and claim there.",
        "invalid_request_error",
      );
    return s.shares;
  };

  app.get("/v1/settlement", async () => ({ object: "settlement", ...s.settlement.info() }));

  // redemptions on chain the ledger could not mirror yet: each is retried on every poll of the chain
  app.get("/v1/admin/settlement/unmirrored", async (req) => {
    requireAdmin(req);
    const data = (s.unmirrored?.() ?? []).map((u) => ({ ...u, cumulative: u.cumulative.toString() }));
    return { object: "list", data };
  });

  app.get("/v1/settlement/account", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    return { object: "settlement_account", ...(await s.settlement.account(consumerId)) };
  });

  // a custodial consumer takes money out: requested now, withdrawn after the Escrow contract's
  // delay and sent to `to` by the gateway (withdrawals.ts); only headroom may leave
  const custodian = () => {
    if (!s.withdrawals)
      throw new TesseraError(
        "withdrawals_local",
        409,
        "This gateway settles on its local ledger: withdrawals are an operator's matter, not a chain transaction.",
        "invalid_request_error",
      );
    return s.withdrawals;
  };
  const withdrawalView = (w: Awaited<ReturnType<NonNullable<RunningSettlement["withdrawals"]>["list"]>>[number]) => ({
    object: "withdrawal",
    id: w.id,
    status: w.status,
    amount: w.amount.toString(),
    from: w.fromAddress,
    to: w.toAddress,
    readyAt: w.readyAt,
    requestTx: w.requestTx,
    withdrawTx: w.withdrawTx,
    paid: w.paid?.toString() ?? null,
    transferTx: w.transferTx,
    error: w.error,
    createdAt: w.createdAt,
  });
  app.post("/v1/settlement/withdraw", async (req, reply) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const b = parse(Withdraw, req.body);
    if (s.selfSigned?.addressOf(consumerId))
      throw new TesseraError(
        "withdraw_yourself",
        409,
        "This consumer holds its own key: call requestWithdrawal and withdraw on the Escrow contract from it.",
        "invalid_request_error",
      );
    const w = await custodian().request(consumerId, BigInt(b.amount), b.to);
    return reply.status(202).send(withdrawalView(w));
  });
  app.get("/v1/settlement/withdrawals", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    return { object: "list", data: (await custodian().list(consumerId)).map(withdrawalView) };
  });

  selfSignedRoutes(app, ctx, s);

  app.get("/v1/provider/vouchers", async (req) => {
    const providerId = requireNode(req);
    return { object: "vouchers", providerId, ...(await s.settlement.vouchers(providerId)) };
  });

  app.get("/v1/shares/:providerId", async (req) =>
    localShares().view(parse(Id, (req.params as { providerId: string }).providerId)),
  );

  app.post("/v1/admin/shares/issue", async (req, reply) => {
    requireAdmin(req);
    const b = parse(Issue, req.body);
    return reply.status(201).send(await localShares().issue(b.providerId, BigInt(b.supply)));
  });
  app.post("/v1/admin/shares/transfer", async (req) => {
    requireAdmin(req);
    const b = parse(Transfer, req.body);
    return localShares().transfer(b.providerId, b.from, b.to, BigInt(b.shares));
  });
  app.post("/v1/admin/shares/claim", async (req) => {
    requireAdmin(req);
    const b = parse(Claim, req.body);
    return localShares().claim(b.providerId, b.holder);
  });

  // a provider acting on its own shares: issue once, sell (transfer) its holding, claim its part
  app.post("/v1/provider/shares/issue", async (req, reply) => {
    const node = requireNode(req, req.body);
    const b = parse(OwnIssue, req.body);
    return reply.status(201).send(await localShares().issue(node, BigInt(b.supply)));
  });
  app.post("/v1/provider/shares/transfer", async (req) => {
    const node = requireNode(req, req.body);
    const b = parse(OwnTransfer, req.body);
    return localShares().transfer(node, node, b.to, BigInt(b.shares));
  });
  app.post("/v1/provider/shares/claim", async (req) => {
    const node = requireNode(req, req.body);
    return localShares().claim(parse(Claim.shape.providerId, (req.body as { providerId?: unknown })?.providerId), node);
  });
}
