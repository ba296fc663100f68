// Builds and starts a gateway: store, engine, HTTP API and the provider WebSocket channel.
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import rateLimit from "@fastify/rate-limit";
import websocket from "@fastify/websocket";
import {
  generateIdentity,
  type Identity,
  loadOrCreateKeyFile,
  MAX_FRAME_BYTES,
  NotFound,
  RateLimited,
  TesseraError,
} from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import pino, { type Logger } from "pino";
import { Authenticator, rateLimitKey } from "./auth.js";
import { BatchManager } from "./batch/manager.js";
import { type HelloGate, handleProviderSocket } from "./channel.js";
import { type GatewayConfig, type GatewayConfigInput, parseGatewayConfig } from "./config.js";
import { registerCors } from "./cors.js";
import { Engine } from "./engine/engine.js";
import { clientErrorHandler, errorHandler, frameworkErrors, sendError } from "./errors.js";
import { registerExplorer } from "./explorer/index.js";
import { createMetrics } from "./metrics.js";
import { adminRoutes } from "./routes/admin.js";
import { batchRoutes } from "./routes/batches.js";
import { blobRoutes } from "./routes/blobs.js";
import type { RouteContext } from "./routes/context.js";
import { jobRoutes } from "./routes/jobs.js";
import { modelRoutes } from "./routes/models.js";
import { networkRoutes } from "./routes/network.js";
import { openaiRoutes } from "./routes/openai.js";
import { settlementRoutes } from "./settlement/routes.js";
import { startSettlement } from "./settlement/start.js";
import { verificationRoutes } from "./verification/routes.js";
import { startVerification } from "./verification/start.js";

export interface GatewayHandle {
  url: string;
  wsUrl: string;
  port: number;
  app: FastifyInstance;
  engine: Engine;
  store: Store;
  identity: Identity;
  close(): Promise<void>;
}

/** How long a closing gateway waits for the requests in flight before it cuts their connections. */
export const SHUTDOWN_GRACE_MS = 2_000;

const PROVIDER_CHANNEL = "/v1/provider/connect";
const UNLIMITED_PATHS = new Set(["/healthz", "/metrics", PROVIDER_CHANNEL]);

function gatewayIdentity(keyFile: string | undefined, db: string, log: Logger): Identity {
  // a key others can read is used all the same, with a word, as a provider's is
  const options = { onWarning: (message: string) => log.warn(message) };
  if (keyFile) return loadOrCreateKeyFile(keyFile, options);
  if (db === ":memory:" || /^postgres(ql)?:\/\//.test(db)) return generateIdentity();
  return loadOrCreateKeyFile(join(dirname(db), "gateway.key"), options);
}

export async function startGateway(input: GatewayConfigInput, opts: { logger?: Logger } = {}): Promise<GatewayHandle> {
  const config = parseGatewayConfig(input);
  const log = opts.logger ?? pino({ level: config.logLevel, base: { role: "gateway" } }, pino.destination(2));
  const store = await openStore(config.db, { exclusive: true });
  try {
    return await serve(config, log, store);
  } catch (err) {
    // the store holds the database's lock: a start that fails later (a port in use) lets it go
    await store.close().catch(() => undefined);
    throw err;
  }
}

async function serve(config: GatewayConfig, log: Logger, store: Store): Promise<GatewayHandle> {
  const metrics = createMetrics();
  const engine = new Engine(store, config, log, metrics);
  await engine.restore();
  const identity = gatewayIdentity(config.keyFile, config.db, log);
  const ctx: RouteContext = { engine, store, auth: new Authenticator(store), config, identity, metrics, log };

  // typed as the default instance: route modules do not care which pino flavour logs
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    frameworkErrors,
    clientErrorHandler,
    // OpenAI's shape: clients show it (the openai client's `_request_id`) and logs carry it
    genReqId: () => `req_${randomBytes(12).toString("hex")}`,
  }) as unknown as FastifyInstance;
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-request-id", req.id);
    // a WebSocket upgrade anywhere but the provider channel is a 404, not an upgrade that closes at
    // once (the dashboard's catch-all route would take it): a provider given a wrong --gateway path
    // hears why instead of reconnecting forever
    if (req.headers.upgrade?.toLowerCase() === "websocket" && req.url.split("?")[0] !== PROVIDER_CHANNEL) {
      // an upgrade's socket is no longer the HTTP server's to close: it goes once the answer is out
      reply.raw.once("finish", () => req.socket.destroySoon());
      return sendError(
        reply.header("connection", "close"),
        new TesseraError(
          "route_not_found",
          404,
          `No WebSocket endpoint at ${req.url.split("?")[0]}: the provider channel is ${PROVIDER_CHANNEL}.`,
          "not_found_error",
        ),
      );
    }
  });
  app.setErrorHandler(errorHandler);
  // A DELETE carries no body, but curl -H 'Content-Type: application/json' and some clients still
  // label it JSON: that is no body, not an empty JSON document (Fastify's default answers 400).
  const json = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (body === "" && req.method === "DELETE") done(null, undefined);
    else json(req, body as string, done);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new NotFound("route", `${req.method} ${req.url.split("?")[0]}`)),
  );
  app.addHook("onResponse", async (req, reply) => {
    metrics.httpLatency.observe(
      { route: req.routeOptions.url ?? "unmatched", method: req.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  if (config.rateLimitPerSecond > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerSecond,
      timeWindow: 1000,
      allowList: (req) => UNLIMITED_PATHS.has(req.url.split("?")[0] ?? "") || req.url.startsWith("/v1/blobs/"),
      keyGenerator: (req) => rateLimitKey(ctx.auth, config.adminKey, req.headers.authorization, req.ip),
      errorResponseBuilder: (_req, c) => new RateLimited(c.ttl),
    });
  }
  await registerCors(app);
  const verification = startVerification(engine, store, config, log, identity.id);
  ctx.verification = verification.coordinator;
  const settlement = await startSettlement(engine, store, config, log);
  settlement.attach?.(verification.coordinator);
  if (settlement.stakes) ctx.chainStakes = settlement.stakes;
  const gate: HelloGate = { pending: 0 };
  app.route({
    method: "GET",
    url: PROVIDER_CHANNEL,
    handler: (_req, reply) =>
      sendError(
        reply,
        new TesseraError(
          "upgrade_required",
          426,
          "This is the provider channel: open it as a WebSocket (tessera provider --gateway ws://host:port).",
          "invalid_request_error",
        ),
      ),
    wsHandler: (socket, req) => {
      handleProviderSocket(socket, req.socket, {
        gate,
        engine,
        store,
        identity,
        config,
        log,
        onVerification: verification.onMessage,
      });
    },
  });
  verificationRoutes(app, ctx, verification.coordinator);
  settlementRoutes(app, ctx, settlement);
  networkRoutes(app, ctx);
  modelRoutes(app, ctx);
  openaiRoutes(app, ctx);
  const batches = new BatchManager(ctx);
  batchRoutes(app, ctx, batches);
  jobRoutes(app, ctx);
  blobRoutes(app, ctx);
  adminRoutes(app, ctx);
  const explorer = await registerExplorer(app, ctx);

  await batches.restore();
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  log.info({ url, db: store.dialect, gatewayId: identity.id }, "gateway listening");
  return {
    url,
    wsUrl: `ws://${config.host}:${port}`,
    port,
    app,
    engine,
    store,
    identity,
    async close() {
      verification.stop();
      await settlement.stop();
      engine.stop();
      explorer.stop();
      for (const s of engine.sessions.values()) s.close(1001, "gateway shutting down");
      // Requests in flight get a moment to finish; a long-poll (?wait, up to 5 minutes) or a
      // stream is not waited for: it held SIGTERM up for its whole length. Jobs are durable, so
      // a client cut off here finds its job on the restarted gateway.
      const cut = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await app.close();
      clearTimeout(cut);
      await engine.writer.drain();
      await batches.stop();
      await store.close();
    },
  };
}
