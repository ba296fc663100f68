// OpenAI's Files and Batches API (what the official `openai` client calls): upload a JSONL
// file, start a batch over it, watch its request counts, cancel it, download its output.
import { open, rm } from "node:fs/promises";
import { NotFound, TesseraError } from "@tessera/protocol";
import type { BatchFilePurpose } from "@tessera/store";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { newFileId, receiveUpload } from "../batch/files.js";
import type { BatchManager } from "../batch/manager.js";
import { batchView, fileView } from "../batch/views.js";
import { parse } from "../errors.js";
import type { RouteContext } from "./context.js";
import { badCursor } from "./cursors.js";
import { keyBeforeBody } from "./key-first.js";
import { queryInt } from "./query.js";

const CreateBatch = z
  .object({
    input_file_id: z.string().min(1).max(128),
    endpoint: z.enum(["/v1/chat/completions", "/v1/completions", "/v1/jobs"]),
    completion_window: z.string().min(1).max(16),
    // OpenAI's limits: 16 pairs, keys up to 64 characters, values up to 512
    metadata: z
      .record(z.string().max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 16, "at most 16 key-value pairs")
      .nullish(),
    // OpenAI's: the output and error files expire this long after each is created (1 hour to 30 days)
    output_expires_after: z
      .object({
        anchor: z.literal("created_at"),
        seconds: z.number().int().min(3600).max(2_592_000),
      })
      .strict()
      .nullish(),
  })
  .strict();

const ListQuery = z.object({ after: z.string().max(128).optional(), limit: queryInt(1, 100).default(20) }).strict();

// OpenAI's file list: newest first unless `order=asc`, up to 10,000 a page; `purpose` filters
// (batch inputs are `batch`, what batches write is `batch_output`; other purposes hold nothing here)
const FileListQuery = z
  .object({
    after: z.string().max(128).optional(),
    limit: queryInt(1, 10_000).default(10_000),
    purpose: z.string().min(1).max(64).optional(),
    order: z.enum(["asc", "desc"]).default("desc"),
  })
  .strict();
const STORED_PURPOSES = new Set<string>(["batch", "batch_output"] satisfies BatchFilePurpose[]);

const expired = (f: { expiresAt?: number | null }, now: number) =>
  f.expiresAt !== undefined && f.expiresAt !== null && f.expiresAt <= now;

export function batchRoutes(app: FastifyInstance, ctx: RouteContext, batches: BatchManager): void {
  // uploads stream to disk: the body is left unread for busboy instead of being buffered
  void app.register(async (scope) => {
    scope.addContentTypeParser("multipart/form-data", (_req, _payload, done) => done(null, undefined));
    scope.post("/v1/files", async (req, reply) => {
      const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
      const id = newFileId();
      const up = await receiveUpload(req.raw, batches.dir, id, ctx.config.fileLimitBytes).catch((e: unknown) => {
        // refused before the body ended (over the size limit): the connection closes after the
        // answer instead of reading the rest of a body that may be gigabytes
        if (!req.raw.complete) reply.header("connection", "close");
        throw e;
      });
      const file = {
        id,
        consumerId,
        purpose: "batch" as const,
        filename: up.filename,
        bytes: up.bytes,
        lines: up.lines,
        path: up.path,
        createdAt: Date.now(),
      };
      await ctx.store.batches.putFile(file);
      return fileView(file);
    });
  });

  const ownFile = async (authorization: string | undefined, id: string) => {
    const consumerId = await ctx.auth.consumerFor(authorization);
    const f = await ctx.store.batches.getFile(id);
    // an expired file is gone, as OpenAI's are, though the sweep may not have removed it yet
    if (!f || f.consumerId !== consumerId || expired(f, Date.now())) throw new NotFound("file", id, "file_id");
    return f;
  };

  app.get("/v1/files", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const q = parse(FileListQuery, req.query);
    if (q.after !== undefined && (await ctx.store.batches.getFile(q.after))?.consumerId !== consumerId)
      throw badCursor("after", q.after);
    const { purpose } = q;
    const files =
      purpose === undefined || STORED_PURPOSES.has(purpose)
        ? await ctx.store.batches.listFiles(consumerId, {
            after: q.after,
            limit: q.limit + 1,
            order: q.order,
            purpose: purpose as BatchFilePurpose | undefined,
            liveAt: Date.now(),
          })
        : [];
    const page = files.slice(0, q.limit).map(fileView);
    return {
      object: "list",
      data: page,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
      has_more: files.length > q.limit,
    };
  });

  app.get("/v1/files/:id", async (req) =>
    fileView(await ownFile(req.headers.authorization, (req.params as { id: string }).id)),
  );

  app.get("/v1/files/:id/content", async (req, reply) => {
    const f = await ownFile(req.headers.authorization, (req.params as { id: string }).id);
    // opened before answering: bytes gone from the disk under a record (removed by hand, a lost
    // volume) are a 404 saying so, where the stream's error was a 500 after the status was chosen
    const handle = await open(f.path, "r").catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
      throw new TesseraError(
        "file_content_missing",
        404,
        `File '${f.id}' exists, but its content is no longer on the gateway's disk and cannot be downloaded.`,
        "not_found_error",
        "file_id",
      );
    });
    const { size } = await handle.stat().catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    // the length is what is there to send: a record's count that disagreed would cut the answer short
    return reply.type("application/jsonl").header("content-length", size).send(handle.createReadStream());
  });

  // The record goes first: a crash between the two steps leaves unreferenced bytes on disk,
  // never a record pointing at nothing.
  app.delete("/v1/files/:id", async (req) => {
    const f = await ownFile(req.headers.authorization, (req.params as { id: string }).id);
    const user = (await ctx.store.batches.unfinishedBatches()).find((b) => b.inputFileId === f.id);
    if (user)
      throw new TesseraError(
        "file_in_use",
        409,
        `File '${f.id}' is the input of batch '${user.id}', which has not finished; cancel it or wait for it first.`,
        "conflict_error",
        "file_id",
      );
    await ctx.store.batches.deleteFile(f.id);
    await rm(f.path, { force: true });
    return { id: f.id, object: "file", deleted: true };
  });

  app.post("/v1/batches", { onRequest: keyBeforeBody(ctx) }, async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const body = parse(CreateBatch, req.body);
    const b = await batches.create(consumerId, {
      inputFileId: body.input_file_id,
      endpoint: body.endpoint,
      completionWindow: body.completion_window,
      metadata: body.metadata ?? null,
      outputExpiresAfterSeconds: body.output_expires_after?.seconds ?? null,
    });
    return batchView(b);
  });

  app.get("/v1/batches/:id", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    return batchView(await batches.get(consumerId, (req.params as { id: string }).id));
  });

  app.post("/v1/batches/:id/cancel", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    return batchView(await batches.cancel(consumerId, (req.params as { id: string }).id));
  });

  app.get("/v1/batches", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const q = parse(ListQuery, req.query);
    if (q.after !== undefined && (await ctx.store.batches.getBatch(q.after))?.consumerId !== consumerId)
      throw badCursor("after", q.after);
    const rows = await batches.list(consumerId, { after: q.after, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit).map(batchView);
    return {
      object: "list",
      data: page,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
      has_more: rows.length > q.limit,
    };
  });
}
