// Explorer endpoints about the network: the overview time series, providers (paged, by
// region, one provider's history) and the compute leaderboard. Public and read-only.
import { reputationOf, stakeAccounts } from "@tessera/core";
import { NotFound } from "@tessera/protocol";
import type { ProviderRecord } from "@tessera/store";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { parse } from "../errors.js";
import type { RouteContext } from "../routes/context.js";
import { queryInt } from "../routes/query.js";
import { stakeIn } from "../settlement/registry-stakes.js";
import { cached } from "./cache.js";
import { denseHistory } from "./history.js";
import { type Sample, type Sampler, SERIES } from "./sampler.js";
import { passRate, slashView } from "./views.js";

const ProvidersQuery = z
  .object({
    limit: queryInt(1, 200).default(50),
    offset: queryInt(0, 1_000_000).default(0),
    sort: z.enum(["earnings", "completed", "lastSeen", "stake", "id"]).default("lastSeen"),
    region: z.string().min(1).max(64).optional(),
    online: z.enum(["true", "false"]).optional(),
  })
  .strict();
/** series=false: the counts without the hour of samples, for a page refreshing its totals */
const OverviewQuery = z.object({ series: z.enum(["true", "false"]).default("true") }).strict();
const HistoryQuery = z
  .object({
    hours: queryInt(1, 24 * 30).default(24),
  })
  .strict();

/** The samples as one array per measure, beside their times. */
function seriesOf(samples: Sample[]): Record<string, (number | null)[]> {
  const series: Record<string, (number | null)[]> = { t: samples.map((s) => s.t) };
  for (const k of SERIES) series[k] = samples.map((s) => s[k]);
  return series;
}

export function networkExplorerRoutes(app: FastifyInstance, ctx: RouteContext, sampler: Sampler): void {
  const providerView = (p: ProviderRecord & { earnings?: bigint; stake?: bigint; unbonding?: bigint }) => {
    const s = ctx.engine.sessions.get(p.id);
    const live = s?.online ? s : undefined;
    const completed = live?.completed ?? p.completed;
    const failed = live?.failed ?? p.failed;
    const caps = live?.capabilities ?? p.capabilities;
    return {
      id: p.id,
      region: caps.region,
      runtimes: caps.runtimes,
      models: caps.models.map((m) => m.name),
      pricePerUnit: caps.pricePerUnit,
      capacity: caps.maxConcurrency,
      throughput: caps.throughput,
      provenThroughput: ctx.verification?.provenThroughput(p.id) ?? null,
      load: live ? ctx.engine.runningOn(p.id) : 0,
      reputation: ctx.verification?.reputationOf(p.id) ?? reputationOf({ completed, failed }),
      completed,
      failed,
      online: Boolean(live),
      draining: live?.draining ?? false,
      /** bonded stake (ledger account provider:<id>:stake), nano-credits */
      stake: p.stake?.toString() ?? null,
      /** stake unbonding: paid out after the unbonding period, slashable until then */
      unbonding: p.unbonding?.toString() ?? null,
      /** excluded from scheduling and verifying by verification (slashed, or struck out as a verifier) */
      excluded: ctx.verification?.isExcluded(p.id) ?? false,
      earnings: p.earnings?.toString() ?? null,
      firstSeenAt: p.firstSeenAt,
      lastSeenAt: live ? Date.now() : p.lastSeenAt,
      uptimeMs: live ? Date.now() - live.connectedAt : 0,
    };
  };

  app.get("/v1/explorer/overview", async (req) => {
    const q = parse(OverviewQuery, req.query);
    const samples = sampler.samples();
    const counts = await statusCounts();
    return {
      object: "overview",
      intervalMs: sampler.intervalMs,
      windowMs: sampler.windowMs,
      now: Date.now(),
      providersOnline: ctx.engine.onlineSessions().length,
      queueDepth: ctx.engine.queueDepth,
      running: ctx.engine.runningCount,
      jobs: counts,
      auditsRecorded: ctx.verification !== undefined || samples.some((s) => s.auditsPassed !== null),
      ...(q.series === "true" ? { series: seriesOf(samples) } : {}),
    };
  });
  const statusCounts = cached(2_000, () => ctx.store.countJobsByStatus());

  const ethAddressOf = (p: ProviderRecord) =>
    (ctx.engine.sessions.get(p.id)?.capabilities ?? p.capabilities).ethAddress;

  /**
   * --settlement evm: stake lives in ProviderRegistry, not in ledger accounts, so each row's stake
   * and unbonding are the registry's (cached reads); sorting by it sorts the filtered providers here,
   * at most CHAIN_SORT_MAX of them.
   */
  const CHAIN_SORT_MAX = 10_000;
  const chainProvidersPage = async (
    q: z.infer<typeof ProvidersQuery>,
    stakes: NonNullable<RouteContext["chainStakes"]>,
  ) => {
    const filter = { ...(q.region ? { region: q.region } : {}), onlineOnly: q.online === "true" };
    const byStake = q.sort === "stake";
    const page = await ctx.store.explorer.providersPage(
      byStake
        ? { limit: CHAIN_SORT_MAX, offset: 0, sort: "id", ...filter }
        : { limit: q.limit, offset: q.offset, sort: q.sort, ...filter },
    );
    const read = await stakes.many(page.rows.map(ethAddressOf));
    let rows = page.rows.map((p) => {
      const s = stakeIn(read, ethAddressOf(p));
      return { ...p, stake: s.bonded, unbonding: s.unbonding };
    });
    if (byStake)
      rows = rows
        .sort((a, b) => (a.stake === b.stake ? (a.id < b.id ? -1 : 1) : a.stake > b.stake ? -1 : 1))
        .slice(q.offset, q.offset + q.limit);
    return { total: page.total, rows };
  };

  app.get("/v1/explorer/providers", async (req) => {
    const q = parse(ProvidersQuery, req.query);
    const page = ctx.chainStakes
      ? await chainProvidersPage(q, ctx.chainStakes)
      : await ctx.store.explorer.providersPage({
          limit: q.limit,
          offset: q.offset,
          sort: q.sort,
          ...(q.region ? { region: q.region } : {}),
          onlineOnly: q.online === "true",
        });
    return { object: "list", total: page.total, offset: q.offset, data: page.rows.map(providerView) };
  });

  const regions = cached(2_000, () => ctx.store.explorer.regions());
  app.get("/v1/explorer/regions", async () => {
    // live load per region from the engine: where work is running right now
    const load = new Map<string, number>();
    for (const s of ctx.engine.onlineSessions())
      load.set(s.capabilities.region, (load.get(s.capabilities.region) ?? 0) + ctx.engine.runningOn(s.id));
    return { object: "list", data: (await regions()).map((r) => ({ ...r, running: load.get(r.region) ?? 0 })) };
  });

  app.get<{ Params: { id: string } }>("/v1/explorer/providers/:id", async (req) => {
    const { hours } = parse(HistoryQuery, req.query);
    const p = await ctx.store.getProvider(req.params.id);
    if (!p) throw new NotFound("provider", req.params.id);
    const bucketMs = hours <= 1 ? 60_000 : hours <= 24 ? 3_600_000 / 4 : 3_600_000 * 6;
    const now = Date.now();
    const from = now - hours * 3_600_000;
    const onChain = ctx.config.settlement.kind === "evm";
    const [
      earnings,
      ledgerStake,
      ledgerUnbonding,
      history,
      recent,
      unbondings,
      audits,
      slashes,
      chainSlashes,
      registry,
    ] = await Promise.all([
      ctx.store.balance(stakeAccounts.earnings(p.id)),
      ctx.store.balance(stakeAccounts.stake(p.id)),
      ctx.store.balance(stakeAccounts.unbonding(p.id)),
      ctx.store.explorer.providerHistory(p.id, from, bucketMs),
      ctx.store.explorer.jobsPage({ providerId: p.id, limit: 20 }),
      ctx.store.verification.openUnbondings(p.id),
      ctx.store.verification.auditCounts([p.id]),
      ctx.store.verification.providerSlashes(p.id, 20),
      onChain ? ctx.store.chain.recentSlashes(20, p.id) : Promise.resolve([]),
      ctx.chainStakes ? ctx.chainStakes.many([ethAddressOf(p)]) : Promise.resolve(undefined),
    ]);
    // on chain the stake lives in ProviderRegistry (bonded and unbonding), not in ledger accounts
    const onRegistry = registry ? stakeIn(registry, ethAddressOf(p)) : undefined;
    const stake = onRegistry?.bonded ?? ledgerStake;
    const unbonding = onRegistry?.unbonding ?? ledgerUnbonding;
    const counts = audits.get(p.id) ?? { passed: 0, failed: 0, pending: 0 };
    return {
      object: "provider",
      ...providerView({ ...p, earnings, stake, unbonding }),
      models: (ctx.engine.sessions.get(p.id)?.capabilities ?? p.capabilities).models,
      unbondings: unbondings.map((u) => ({ id: u.id, amount: u.amount.toString(), releaseAt: u.releaseAt })),
      audits: { ...counts, passRate: passRate(counts) },
      /** the 20 newest slashes, with the count and sum of all of them */
      slashes: { count: slashes.count, total: slashes.total.toString(), data: slashes.rows.map(slashView) },
      /** --settlement evm: slashes submitted to the Slashing contract, with tx and the contract's split */
      ...(onChain
        ? {
            /** the node's ProviderRegistry entry: when its unbonding stake may be withdrawn, and any dispute freeze */
            registry: {
              address: ethAddressOf(p) ?? null,
              unbondReadyAt: onRegistry?.unbondReadyAt ? onRegistry.unbondReadyAt * 1000 : null,
              frozenUntil: onRegistry?.frozenUntil ? onRegistry.frozenUntil * 1000 : null,
            },
            chainSlashes: chainSlashes.map((s) => ({
              auditId: s.auditId,
              jobId: s.jobId,
              status: s.status,
              tx: s.tx,
              taken: s.taken?.toString() ?? null,
              refund: s.refund?.toString() ?? null,
              reward: s.reward?.toString() ?? null,
              /** what the contract sent to 0x…dEaD: taken less the refund and the verifiers' rewards */
              burned:
                s.taken === null || s.taken === undefined
                  ? null
                  : (s.taken - (s.refund ?? 0n) - (s.reward ?? 0n)).toString(),
              error: s.error,
              createdAt: s.createdAt,
            })),
          }
        : {}),
      history: {
        bucketMs,
        buckets: denseHistory(history, from, now, bucketMs).map((b) => ({ ...b, earned: b.earned.toString() })),
      },
      recentJobs: recent.map((j) => ({
        id: j.id,
        status: j.status,
        cost: j.cost?.toString() ?? null,
        createdAt: j.createdAt,
      })),
    };
  });

  const board = cached(3_000, async () => {
    const rows = await ctx.store.explorer.leaderboard(100);
    const [providers, audits] = await Promise.all([
      Promise.all(rows.map((r) => ctx.store.getProvider(r.providerId))),
      ctx.store.verification.auditCounts(rows.map((r) => r.providerId)),
    ]);
    const records = new Map(providers.flatMap((p) => (p ? [[p.id, p]] : [])));
    return rows.map((r) => {
      const p = records.get(r.providerId);
      const a = audits.get(r.providerId);
      return {
        provider: r.providerId,
        region: p?.capabilities.region ?? null,
        online: ctx.engine.sessions.get(r.providerId)?.online ?? false,
        jobs: r.jobs,
        standardUnits: r.standardUnits,
        unitsPerSecond: r.busyMs > 0 ? (r.standardUnits * 1000) / r.busyMs : null,
        /** standard units per second shown in the latest proof of capacity (Freivalds-checked) */
        provenThroughput: ctx.verification?.provenThroughput(r.providerId) ?? null,
        /** what consumers actually paid per SU (nano-credits), which the listed price caps */
        pricePerUnit: r.standardUnits > 0 ? Number(r.cost) / r.standardUnits : null,
        listedPricePerUnit: p?.capabilities.pricePerUnit ?? null,
        /** passed / decided audits of this provider's results (slashed ones failed); null before any */
        auditPassRate: passRate(a),
        auditsPassed: a?.passed ?? 0,
        auditsFailed: a?.failed ?? 0,
        avgLatencyMs: r.avgLatencyMs,
      };
    });
  });
  app.get("/v1/explorer/leaderboard", async () => ({
    object: "list",
    auditsRecorded: ctx.verification !== undefined,
    data: await board(),
  }));
}
