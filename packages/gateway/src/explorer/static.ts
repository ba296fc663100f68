// Serves the built dashboard at `/`: hashed assets with long caching, and index.html for every
// other GET outside the API so that the single-page app's own routes (/jobs/…) load on refresh.
import fastifyStatic from "@fastify/static";
import { dashboardBuilt, dashboardDist } from "@tessera/dashboard";
import { NotFound } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import { sendError } from "../errors.js";

const API = /^\/(v1|healthz|metrics)(\/|$|\?)/;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Tessera</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem">
<h1>The dashboard is not built</h1>
<p>The gateway serves the dashboard from <code>packages/dashboard/dist</code>, which <code>npm install</code>
builds. Build it by hand with <code>npm run build -w @tessera/dashboard</code> and reload.</p>
<p>The API is up: <a href="/healthz">/healthz</a>, <a href="/v1/explorer/overview">/v1/explorer/overview</a>.</p>`;

export async function dashboardRoutes(app: FastifyInstance, dir: string = dashboardDist): Promise<void> {
  const built = dashboardBuilt(dir);
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: "/",
      wildcard: false,
      index: false,
      setHeaders: (res, path) => {
        res.header("cache-control", path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }
  app.get("/*", (req, reply) => {
    const path = req.url.split("?")[0] ?? "/";
    if (API.test(path) || path.startsWith("/assets/"))
      return sendError(reply, new NotFound("route", `${req.method} ${path}`));
    if (!built) return reply.type("text/html").send(NOT_BUILT);
    return reply.header("cache-control", "no-cache").sendFile("index.html");
  });
}
