// Explorer endpoints about jobs and money: the searchable job list, one job's whole trail,
// the ledger with its invariants, and the consumer's own view behind the API key.
import { accounts, checkInvariants } from "@tessera/core";
import { JOB_STATUSES, NotFound } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { JOB_ID_PATTERN } from "../engine/engine.js";
import { parse } from "../errors.js";
import type { RouteContext } from "../routes/context.js";
import { queryInt } from "../routes/query.js";
import { cached } from "./cache.js";
import { accountAs, accountConsumer, ConsumerHidden, PUBLIC, seesConsumer, viewerResolver } from "./privacy.js";
import { auditView, jobDetailView, jobSummaryView, postingView } from "./views.js";

const Id = z.string().min(1).max(100);
const JobsQuery = z
  .object({
    limit: queryInt(1, 200).default(50),
    cursor: z.string().regex(JOB_ID_PATTERN, "a job id: the nextCursor of the previous page").optional(),
    status: z.enum(JOB_STATUSES).optional(),
    runtime: z.enum(["llm", "wasm"]).optional(),
    provider: Id.optional(),
    consumer: Id.optional(),
    q: z.string().min(1).max(100).optional(),
  })
  .strict();
const AccountsQuery = z
  .object({
    prefix: z.string().max(100).optional(),
    limit: queryInt(1, 200).default(50),
    offset: queryInt(0, 10_000_000).default(0),
  })
  .strict();
const PostingsQuery = z
  .object({
    account: z.string().min(1).max(200).optional(),
    job: Id.optional(),
    before: queryInt(1, Number.MAX_SAFE_INTEGER).optional(),
    limit: queryInt(1, 200).default(50),
  })
  .strict();

export function jobExplorerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  /** the admin key, a consumer's key, or anonymous (the explorer is public; consumers are not) */
  const viewer = viewerResolver(ctx);

  app.get("/v1/explorer/jobs", async (req) => {
    const q = parse(JobsQuery, req.query);
    const me = await viewer(req);
    if (q.consumer && !seesConsumer(me, q.consumer)) throw new ConsumerHidden("consumer");
    const rows = await ctx.store.explorer.jobsPage({
      limit: q.limit + 1,
      ...(q.cursor ? { before: q.cursor } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.runtime ? { runtime: q.runtime } : {}),
      ...(q.provider ? { providerId: q.provider } : {}),
      ...(q.consumer ? { consumerId: q.consumer } : {}),
      ...(q.q ? { idPrefix: q.q.trim() } : {}),
    });
    const page = rows.slice(0, q.limit);
    return {
      object: "list",
      data: page.map((j) => jobSummaryView(j, me)),
      hasMore: rows.length > q.limit,
      nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
    };
  });

  app.get<{ Params: { id: string } }>("/v1/explorer/jobs/:id", async (req) => {
    const id = parse(Id, req.params.id);
    const job = ctx.engine.activeJob(id) ?? (await ctx.store.getJob(id));
    if (!job) throw new NotFound("job", id, "id");
    const [attempts, postings, audits, me] = await Promise.all([
      ctx.store.attempts(id),
      ctx.store.explorer.postingsPage({ jobId: id, limit: 100 }),
      ctx.store.verification.auditsOfJob(id),
      viewer(req),
    ]);
    const owner = me.kind === "consumer" && me.id === job.consumerId;
    return {
      object: "job",
      visibleToYou: owner,
      job: jobDetailView(job, owner, me),
      attempts,
      postings: postings.reverse().map((p) => postingView(p, me)),
      audits: audits.map(auditView),
      // this gateway draws and records audits (verification runs); a job with none was not drawn
      auditsRecorded: ctx.verification !== undefined,
    };
  });

  const ledger = cached(2_000, async () => {
    await ctx.engine.writer.drain();
    const [balances, mismatches] = await Promise.all([ctx.store.balances(), ctx.store.explorer.journalMismatches(10)]);
    const report = checkInvariants(balances);
    // every internal account falls in one total, so the totals add up to internalTotal
    const totals = { available: 0n, escrow: 0n, earnings: 0n, fees: 0n, stake: 0n, other: 0n };
    for (const [name, v] of balances) {
      if (name === "external") continue;
      if (name.endsWith(":available")) totals.available += v;
      else if (name.endsWith(":escrow")) totals.escrow += v;
      else if (name.endsWith(":earnings")) totals.earnings += v;
      else if (name === "protocol:fees") totals.fees += v;
      else if (name.startsWith("provider:") && (name.endsWith(":stake") || name.endsWith(":unbonding")))
        totals.stake += v;
      else totals.other += v;
    }
    const negatives = report.negativeAccounts;
    return {
      object: "ledger",
      checkedAt: Date.now(),
      ok: report.ok && mismatches.length === 0,
      accounts: balances.size,
      netDeposited: report.netDeposited.toString(),
      internalTotal: report.internalTotal.toString(),
      totals: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v.toString()])),
      invariants: [
        {
          name: "conservation",
          title: "Money is never created or lost",
          ok: report.internalTotal === report.netDeposited,
          detail: `internal accounts hold ${report.internalTotal} nc; ${report.netDeposited} nc came in from outside`,
        },
        {
          name: "non-negative",
          title: "No internal balance is negative",
          ok: negatives.length === 0,
          detail:
            negatives.length === 0
              ? `${balances.size - 1} internal accounts, none below zero`
              : // the report is public: another consumer's account is named as consumer:*:…
                `negative: ${negatives
                  .slice(0, 5)
                  .map((a) => accountAs(PUBLIC, a))
                  .join(", ")}`,
        },
        {
          name: "journal",
          title: "Every balance equals its postings replayed",
          ok: mismatches.length === 0,
          detail:
            mismatches.length === 0
              ? "balances match the sum of postings in minus out"
              : mismatches
                  .map((m) => `${accountAs(PUBLIC, m.account)}: balance ${m.balance}, journal ${m.journal}`)
                  .join("; "),
        },
      ],
    };
  });
  app.get("/v1/explorer/ledger", async () => ledger());

  app.get("/v1/explorer/ledger/accounts", async (req) => {
    const q = parse(AccountsQuery, req.query);
    const me = await viewer(req);
    const page = await ctx.store.explorer.accountsPage({
      offset: q.offset,
      limit: q.limit,
      ...(q.prefix ? { prefix: q.prefix } : {}),
      // other consumers' accounts are left out, not just renamed: a balance over time is a trail
      ...(me.kind === "operator" ? {} : { onlyConsumer: me.kind === "consumer" ? me.id : null }),
    });
    return {
      object: "list",
      total: page.total,
      offset: q.offset,
      data: page.rows.map((r) => ({ name: r.name, balance: r.balance.toString() })),
    };
  });

  app.get("/v1/explorer/ledger/postings", async (req) => {
    const q = parse(PostingsQuery, req.query);
    const me = await viewer(req);
    const owner = q.account ? accountConsumer(q.account) : undefined;
    if (owner !== undefined && !seesConsumer(me, owner)) throw new ConsumerHidden("account");
    const rows = await ctx.store.explorer.postingsPage({
      limit: q.limit + 1,
      ...(q.account ? { account: q.account } : {}),
      ...(q.job ? { jobId: q.job } : {}),
      ...(q.before ? { beforeId: q.before } : {}),
    });
    const page = rows.slice(0, q.limit);
    return {
      object: "list",
      data: page.map((p) => postingView(p, me)),
      hasMore: rows.length > q.limit,
      nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
    };
  });

  app.get("/v1/explorer/me", async (req) => {
    const consumerId = await ctx.auth.consumerFor(req.headers.authorization);
    const [consumer, available, escrow, spent, jobs, batches] = await Promise.all([
      ctx.store.getConsumer(consumerId),
      ctx.store.balance(accounts.available(consumerId)),
      ctx.store.balance(accounts.escrow(consumerId)),
      ctx.store.spent(consumerId),
      ctx.store.explorer.jobsPage({ consumerId, limit: 50 }),
      ctx.store.batches.listBatches(consumerId, { limit: 20 }),
    ]);
    return {
      object: "consumer",
      id: consumerId,
      name: consumer?.name ?? null,
      unit: "nano-credits",
      balance: available.toString(),
      escrow: escrow.toString(),
      spent: spent.toString(),
      jobs: jobs.map((j) => jobSummaryView(j, { kind: "consumer", id: consumerId })),
      // newest first; counts are the runner's, saved at most half a second behind
      batches: batches.map((b) => ({
        id: b.id,
        status: b.status,
        endpoint: b.endpoint,
        total: b.total,
        completed: b.completed,
        failed: b.failed,
        spent: b.spent.toString(),
        createdAt: b.createdAt,
      })),
    };
  });
}
