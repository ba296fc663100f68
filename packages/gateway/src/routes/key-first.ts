// The consumer's key is checked before a request's body is read. Fastify reads and buffers a body
// before the handler runs, so a route that checked the key in its handler read up to 64 MiB (a
// blob) or 8 MiB (JSON) from anyone before answering 401; sixteen anonymous 60 MiB uploads at once
// took a gateway from 270 MB to 840 MB resident. The lookup is cached (auth.ts), so the handler's
// own check costs nothing more.
import type { onRequestAsyncHookHandler } from "fastify";
import { requireAdminHeader } from "../auth.js";
import type { RouteContext } from "./context.js";

function before(check: (authorization: string | undefined) => unknown): onRequestAsyncHookHandler {
  return async (req, reply) => {
    try {
      await check(req.headers.authorization);
    } catch (e) {
      // the rest of the body is not read: the connection ends with the answer
      reply.header("connection", "close");
      throw e;
    }
  };
}

/** For routes a consumer's key opens. */
export function keyBeforeBody(ctx: RouteContext): onRequestAsyncHookHandler {
  return before((authorization) => ctx.auth.consumerFor(authorization));
}

/** For routes the admin key opens. */
export function adminBeforeBody(ctx: RouteContext): onRequestAsyncHookHandler {
  return before((authorization) => requireAdminHeader(ctx.config.adminKey, authorization));
}
