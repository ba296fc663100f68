// Account, providers, health and metrics: what a consumer or operator reads about the network.
import { accounts, EXTERNAL, priceFor, reputationOf } from "@tessera/core";
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "./context.js";

export function networkRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // a load balancer's probe: up only while the store answers (one indexed read)
  app.get("/healthz", async (_req, reply) => {
    const providers = ctx.engine.onlineSessions().length;
    try {
      await ctx.store.balance(EXTERNAL);
    } catch (err) {
      ctx.log.warn({ err }, "health check: the store does not answer");
      return reply.status(503).send({ ok: false, store: "unavailable", providers });
    }
    return { ok: true, providers };
  });

  app.get("/metrics", async (_req, reply) => {
    ctx.metrics.queueDepth.set(ctx.engine.queueDepth);
    ctx.metrics.running.set(ctx.engine.runningCount);
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  app.get("/v1/account", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const [available, escrow, spent] = await Promise.all([
      ctx.store.balance(accounts.available(consumerId)),
      ctx.store.balance(accounts.escrow(consumerId)),
      ctx.store.spent(consumerId),
    ]);
    return {
      object: "account",
      id: consumerId,
      unit: "nano-credits",
      balance: available.toString(),
      escrow: escrow.toString(),
      spent: spent.toString(),
    };
  });

  app.get("/v1/providers", async () => {
    const live = new Map(ctx.engine.onlineSessions().map((s) => [s.id, s]));
    const data = (await ctx.store.listProviders()).map((p) => {
      const s = live.get(p.id);
      const completed = s?.completed ?? p.completed;
      const failed = s?.failed ?? p.failed;
      const caps = s?.capabilities ?? p.capabilities;
      return {
        id: p.id,
        region: caps.region,
        runtimes: caps.runtimes,
        models: caps.models.map((m) => ({ id: m.id, name: m.name, parameters: m.parameters })),
        pricePerUnit: caps.pricePerUnit,
        // what a batch job pays here: the node's batch price, never above pricePerUnit
        batchPricePerUnit: priceFor(caps, "batch"),
        capacity: caps.maxConcurrency,
        throughput: caps.throughput,
        load: s ? ctx.engine.runningOn(p.id) : 0,
        reputation: ctx.verification?.reputationOf(p.id) ?? reputationOf({ completed, failed }),
        provenThroughput: ctx.verification?.provenThroughput(p.id) ?? null,
        completed,
        failed,
        online: Boolean(s),
        draining: s?.draining ?? false,
        // online, but no frame read for 2 heartbeat periods: leased nothing until heard (engine.ts)
        silent: s?.silent ?? false,
        firstSeenAt: p.firstSeenAt,
        lastSeenAt: s ? Date.now() : p.lastSeenAt,
      };
    });
    return { object: "list", data };
  });
}
