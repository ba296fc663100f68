// HTTP surface of verification: operators stake and unbond for providers (admin token); anyone
// reads per-node verification records, a job's audits with their signed verdicts, and the
// newest audits (the explorer's feed).
import { randomUUID } from "node:crypto";
import { AmountSchema, TesseraError } from "@tessera/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { requireAdminHeader } from "../auth.js";
import { parse } from "../errors.js";
import type { RouteContext } from "../routes/context.js";
import { queryInt } from "../routes/query.js";
import type { VerificationCoordinator } from "./coordinator.js";

const StakeBody = z
  .object({
    providerId: z.string().regex(/^[0-9a-f]{64}$/),
    amount: AmountSchema,
    id: z.string().min(1).max(100).optional(),
  })
  .strict();
const Limit = z.object({ limit: queryInt(1, 500).default(50) }).strict();
const SlashQuery = z
  .object({
    limit: queryInt(1, 500).default(50),
    providerId: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .strict();

export function verificationRoutes(app: FastifyInstance, ctx: RouteContext, v: VerificationCoordinator): void {
  const requireAdmin = (req: FastifyRequest) => requireAdminHeader(ctx.config.adminKey, req.headers.authorization);

  // on chain, stake is bonded by the node itself in ProviderRegistry (`tessera chain stake`)
  const refuseOnChain = () => {
    if (ctx.config.settlement.kind === "evm")
      throw new TesseraError(
        "stake_on_chain",
        409,
        "This gateway settles on chain: stake is bonded in ProviderRegistry with `tessera chain stake`.",
        "invalid_request_error",
      );
  };

  app.post("/v1/admin/stake", async (req) => {
    requireAdmin(req);
    refuseOnChain();
    const body = parse(StakeBody, req.body);
    const { staked, applied } = await v.stakes.deposit(body.providerId, BigInt(body.amount), body.id ?? randomUUID());
    ctx.engine.kick();
    return { providerId: body.providerId, stake: staked.toString(), applied };
  });

  app.post("/v1/admin/unbond", async (req) => {
    requireAdmin(req);
    refuseOnChain();
    const body = parse(StakeBody, req.body);
    const { releaseAt, applied } = await v.stakes.unbond(body.providerId, BigInt(body.amount), body.id ?? randomUUID());
    return { providerId: body.providerId, stake: v.stakes.staked(body.providerId).toString(), releaseAt, applied };
  });

  app.get("/v1/verification/nodes", async () => {
    const providers = await ctx.store.listProviders();
    return {
      object: "list",
      minStake: v.minStake.toString(),
      verifierMinStake: v.verifierMinStake.toString(),
      data: providers.map((p) => ({
        id: p.id,
        operator: p.capabilities.operator ?? p.id,
        region: p.capabilities.region,
        verifier: p.capabilities.verifier === true,
        online: ctx.engine.sessions.has(p.id),
        ...v.view(p.id),
      })),
    };
  });

  app.get<{ Params: { id: string } }>("/v1/jobs/:id/audits", async (req) => {
    const audits = await ctx.store.verification.auditsOfJob(req.params.id);
    return { object: "list", data: audits };
  });

  // slashes submitted to the Slashing contract (--settlement evm), with the signed evidence each used
  app.get("/v1/verification/chain-slashes", async (req) => {
    const q = parse(SlashQuery, req.query);
    const rows = await ctx.store.chain.recentSlashes(q.limit, q.providerId);
    const data = await Promise.all(
      rows.map(async (s) => {
        const [result, verdicts] = await Promise.all([
          ctx.store.chain.result(s.jobId, s.attempt),
          ctx.store.chain.verdicts(s.auditId),
        ]);
        return {
          ...s,
          taken: s.taken?.toString() ?? null,
          refund: s.refund?.toString() ?? null,
          reward: s.reward?.toString() ?? null,
          result: result ? { ...result, cost: result.cost.toString() } : null,
          verdicts,
        };
      }),
    );
    return { object: "list", data };
  });

  app.get("/v1/audits", async (req) => {
    const q = parse(Limit, req.query);
    return { object: "list", data: await ctx.store.verification.recentAudits(q.limit) };
  });
}
