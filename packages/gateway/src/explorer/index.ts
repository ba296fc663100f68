// The explorer: read-only public endpoints under /v1/explorer, live updates over SSE, and the
// dashboard served at `/`. Registered by the server; stopped with it.
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "../routes/context.js";
import { jobExplorerRoutes } from "./job-routes.js";
import { LiveHub } from "./live.js";
import { networkExplorerRoutes } from "./network-routes.js";
import { Sampler, storeAuditCounter } from "./sampler.js";
import { dashboardRoutes } from "./static.js";

export interface Explorer {
  sampler: Sampler;
  hub: LiveHub;
  stop(): void;
}

export async function registerExplorer(app: FastifyInstance, ctx: RouteContext): Promise<Explorer> {
  const sampler = new Sampler(
    {
      engine: ctx.engine,
      store: ctx.store,
      log: ctx.log,
      // audits are recorded once verification runs (it always does in a full gateway)
      ...(ctx.verification ? { audits: storeAuditCounter(ctx.store) } : {}),
    },
    ctx.config.sampleMs,
  );
  const hub = new LiveHub(ctx.engine, sampler);
  networkExplorerRoutes(app, ctx, sampler);
  jobExplorerRoutes(app, ctx);
  hub.routes(app);
  await dashboardRoutes(app);
  sampler.start();
  return {
    sampler,
    hub,
    stop() {
      sampler.stop();
      hub.close();
    },
  };
}
