// Content-addressed blobs (WASM modules, large inputs). Upload needs an API key; reading is
// open to anyone who knows the sha256, the way providers fetch what a job names.
import { InvalidRequest, isContentId, NotFound, sha256Hex } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "./context.js";
import { keyBeforeBody } from "./key-first.js";

export function blobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.register(async (scoped) => {
    scoped.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: ctx.config.blobLimitBytes }, (_req, body, done) =>
      done(null, body),
    );
    scoped.post(
      "/v1/blobs",
      { bodyLimit: ctx.config.blobLimitBytes, onRequest: keyBeforeBody(ctx) },
      async (req, reply) => {
        await ctx.auth.consumerFor(req.headers.authorization);
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0)
          throw new InvalidRequest(
            "Send the blob's bytes as the request body (Content-Type: application/octet-stream).",
          );
        const id = sha256Hex(body);
        await ctx.store.putBlob(id, body, Date.now());
        return reply.status(201).send({ id, object: "blob", bytes: body.length });
      },
    );
  });

  app.get("/v1/blobs/:id", async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!isContentId(id)) throw new InvalidRequest("A blob id is a lowercase hex sha256.", "id");
    const bytes = await ctx.store.getBlob(id);
    if (!bytes) throw new NotFound("blob", id, "id");
    return reply
      .type("application/octet-stream")
      .header("cache-control", "public, max-age=31536000, immutable")
      .send(Buffer.from(bytes));
  });
}
