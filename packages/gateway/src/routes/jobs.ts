// Native jobs: submit any runtime's job, read it with its trail, list, cancel.
import { pageCut } from "@tessera/core";
import { canonicalHash, InvalidRequest, MAX_JOB_WAIT_MS, NotFound, SubmitJobSchema } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { JOB_ID_PATTERN } from "../engine/engine.js";
import { parse } from "../errors.js";
import { jobView } from "../views.js";
import type { RouteContext } from "./context.js";
import { badCursor } from "./cursors.js";
import { idempotencyHeader } from "./idempotency.js";
import { keyBeforeBody } from "./key-first.js";
import { queryInt } from "./query.js";
import { waitForJob } from "./wait.js";

const ListQuery = z
  .object({
    limit: queryInt(1, 500).default(50),
    cursor: z.string().regex(JOB_ID_PATTERN, "a job id: the nextCursor of the previous page").optional(),
    status: z.enum(["queued", "running", "completed", "failed", "cancelled"]).optional(),
  })
  .strict();

const GetQuery = z.object({ wait: queryInt(0, MAX_JOB_WAIT_MS).optional() }).strict();

export function jobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post("/v1/jobs", { onRequest: keyBeforeBody(ctx) }, async (req, reply) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const body = parse(SubmitJobSchema, req.body);
    const { constraints, idempotencyKey: bodyKey, ...spec } = body;
    // the header is checked even beside a body key, and two different keys are refused: which of
    // them would a retry be matched by?
    const headerKey = idempotencyHeader(req);
    if (bodyKey !== undefined && headerKey !== undefined && bodyKey !== headerKey)
      throw new InvalidRequest(
        "The Idempotency-Key header and the body's idempotencyKey differ; send one key.",
        "idempotencyKey",
      );
    const idempotencyKey = bodyKey ?? headerKey;
    const job = await ctx.engine.submit({
      consumerId,
      spec,
      constraints: constraints ?? {},
      idempotencyKey,
      // a conflict names what the client sent: the body's field, or else the header
      idempotencyParam: bodyKey === undefined ? "Idempotency-Key" : "idempotencyKey",
      requestHash: canonicalHash({ spec, constraints: constraints ?? {} }),
      jobClass: "batch",
      deadlineMs: constraints?.deadlineMs ?? ctx.config.defaultDeadlineMs,
    });
    return reply.status(202).send(jobView(job));
  });

  app.get("/v1/jobs/:id", async (req, reply) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const { id } = req.params as { id: string };
    const { wait } = parse(GetQuery, req.query);
    let job = ctx.engine.activeJob(id) ?? (await ctx.store.getJob(id));
    if (!job || job.consumerId !== consumerId) throw new NotFound("job", id, "id");
    if (wait && (job.status === "queued" || job.status === "running")) job = await waitForJob(ctx, id, wait, reply.raw);
    return jobView(job, await ctx.store.attempts(id));
  });

  app.get("/v1/jobs", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const q = parse(ListQuery, req.query);
    if (q.cursor !== undefined && (await ctx.store.getJob(q.cursor))?.consumerId !== consumerId)
      throw badCursor("cursor", q.cursor);
    // sizes first: a page of large outputs is cut short (core pageCut) before any output is read
    const sizes = await ctx.store.listJobSizes({ consumerId, status: q.status, before: q.cursor, limit: q.limit + 1 });
    const { take, hasMore } = pageCut(
      sizes.map((s) => s.outputChars),
      q.limit,
    );
    const ids = sizes.slice(0, take).map((s) => s.id);
    const byId = new Map((await ctx.store.getJobs(ids)).map((j) => [j.id, j]));
    const page = ids.flatMap((id) => {
      const j = ctx.engine.activeJob(id) ?? byId.get(id);
      return j ? [jobView(j)] : [];
    });
    return {
      object: "list",
      data: page,
      hasMore,
      nextCursor: hasMore ? (ids.at(-1) ?? null) : null,
    };
  });

  app.delete("/v1/jobs/:id", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const { id } = req.params as { id: string };
    return jobView(await ctx.engine.cancel(consumerId, id));
  });
}
