// Read-only queries behind the dashboard and explorer. Every one aggregates or pages in SQL so
// that a store with 100k jobs answers with a screenful, never the table; JSON fields that the
// explorer filters or sums on are read with the dialect's own JSON functions.
import { accounts, type JobRecord } from "@tessera/core";
import { type Expression, type ExpressionBuilder, type Kysely, type RawBuilder, sql } from "kysely";
import type { Dialect } from "./migrations.js";
import { money, num, numOrNull, rowToProvider } from "./rows.js";
import type { Database, DbInt } from "./schema.js";
import type { ProviderRecord } from "./types.js";

/** Jobs that ended inside a time window: what the gateway's time-series sampler needs. */
export interface FinishedWindow {
  completed: number;
  failed: number;
  cancelled: number;
  outputTokens: number;
  standardUnits: number;
  /** submit-to-end of completed jobs, ms (at most the newest 5,000) */
  latenciesMs: number[];
  spend: bigint;
  earnings: bigint;
  fees: bigint;
}

export interface JobSummary {
  id: string;
  status: JobRecord["status"];
  runtime: string;
  /** model content id (llm) or module id (wasm) */
  target: string | null;
  consumerId: string;
  providerId: string | null;
  attempt: number;
  cost: bigint | null;
  /** the SU billed (null when nothing was): a completed job's, a stopped stream's, or a failed WASM job's that ran out of fuel or trapped */
  standardUnits: number | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface JobPageQuery {
  status?: JobRecord["status"];
  runtime?: string;
  providerId?: string;
  consumerId?: string;
  /** a job id or the start of one */
  idPrefix?: string;
  /** cursor: jobs created strictly before this job */
  before?: string;
  limit: number;
}

export type ProviderSort = "earnings" | "completed" | "lastSeen" | "stake" | "id";

export interface ProviderPageRow extends ProviderRecord {
  earnings: bigint;
  /** bonded stake (provider:<id>:stake) and stake waiting out its unbonding period */
  stake: bigint;
  unbonding: bigint;
}

export interface RegionRow {
  region: string;
  providers: number;
  online: number;
  capacity: number;
  onlineCapacity: number;
}

export interface LeaderRow {
  providerId: string;
  jobs: number;
  standardUnits: number;
  busyMs: number;
  cost: bigint;
  avgLatencyMs: number;
}

export interface HistoryBucket {
  at: number;
  completed: number;
  failed: number;
  earned: bigint;
}

export interface PostingRow {
  id: number;
  eventId: string;
  kind: string;
  jobId: string | null;
  at: number;
  from: string;
  to: string;
  amount: bigint;
}

export class ExplorerQueries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * A JSON text column as PostgreSQL json. Its parser refuses the escape \u0000 anywhere in a
   * document (text cannot hold U+0000), and a consumer's prompt may hold one: it is read as
   * \ufffd, which is what the store writes for U+0000 in plain text columns. A \u0000 that is not
   * an escape (after an escaped backslash) becomes \ufffd too, still valid JSON. json, not jsonb:
   * only ->> is used, and json is read without building jsonb's binary form.
   */
  private pgJson(column: string): RawBuilder<unknown> {
    return sql`replace(${sql.ref(column)}, '\\u0000', '\\ufffd')::json`;
  }

  /**
   * A JSON text column's field as text (null when absent). On PostgreSQL collated "C" as the
   * columns are (dialects/postgres.ts): ->> gives the database's collation, and regions are
   * ordered by it.
   */
  private jsonText(column: string, field: string): RawBuilder<string | null> {
    return this.dialect === "sqlite"
      ? sql`json_extract(${sql.ref(column)}, ${`$.${field}`})`
      : sql`((${this.pgJson(column)} ->> ${field}) collate "C")`;
  }

  /** A JSON text column's numeric field (0 when absent). */
  private jsonNum(column: string, field: string): RawBuilder<DbInt> {
    return this.dialect === "sqlite"
      ? sql`coalesce(json_extract(${sql.ref(column)}, ${`$.${field}`}), 0)`
      : sql`coalesce((${this.pgJson(column)} ->> ${field})::double precision, 0)`;
  }

  async finishedWindow(from: number, to: number): Promise<FinishedWindow> {
    // billed work of every status: completed, a stream stopped by its client, a WASM job that ran out
    // of fuel or trapped (the settle postings that earnings and fees read are theirs too)
    const billed = (v: RawBuilder<DbInt>) => sql<DbInt | null>`case when cost is not null then ${v} end`;
    const byStatus = await this.db
      .selectFrom("jobs")
      .select((eb) => [
        "status",
        eb.fn.countAll<DbInt>().as("n"),
        eb.fn.sum<DbInt | null>(billed(this.jsonNum("units", "outputTokens"))).as("tokens"),
        eb.fn.sum<DbInt | null>(billed(this.jsonNum("units", "standardUnits"))).as("su"),
        eb.fn.sum<DbInt | null>("cost").as("cost"),
      ])
      .where("finished_at", ">", from)
      .where("finished_at", "<=", to)
      .groupBy("status")
      .execute();
    const latencies = await this.db
      .selectFrom("jobs")
      .select((eb) => eb("finished_at", "-", eb.ref("created_at")).as("ms"))
      .where("finished_at", ">", from)
      .where("finished_at", "<=", to)
      .where("status", "=", "completed")
      .orderBy("finished_at", "desc")
      .orderBy("id", "desc")
      .limit(5_000)
      .execute();
    const paid = await this.db
      .selectFrom("postings")
      .select((eb) => [
        eb.fn
          .sum<DbInt | null>(eb.case().when("to_account", "=", "protocol:fees").then(eb.ref("amount")).else(0n).end())
          .as("fees"),
        eb.fn
          .sum<DbInt | null>(eb.case().when("to_account", "like", "provider:%").then(eb.ref("amount")).else(0n).end())
          .as("earnings"),
      ])
      .where("at", ">", from)
      .where("at", "<=", to)
      .where("kind", "=", "settle")
      .executeTakeFirst();
    const w: FinishedWindow = {
      completed: 0,
      failed: 0,
      cancelled: 0,
      outputTokens: 0,
      standardUnits: 0,
      latenciesMs: latencies.map((r) => num(r.ms as DbInt)),
      spend: 0n,
      earnings: paid?.earnings == null ? 0n : money(paid.earnings),
      fees: paid?.fees == null ? 0n : money(paid.fees),
    };
    for (const r of byStatus) {
      const n = num(r.n);
      if (r.status === "completed") w.completed = n;
      else if (r.status === "failed") w.failed = n;
      else if (r.status === "cancelled") w.cancelled = n;
      w.outputTokens += r.tokens == null ? 0 : Math.round(num(r.tokens));
      w.standardUnits += r.su == null ? 0 : Math.round(num(r.su));
      w.spend += r.cost == null ? 0n : money(r.cost);
    }
    return w;
  }

  async jobsPage(q: JobPageQuery): Promise<JobSummary[]> {
    let query = this.db
      .selectFrom("jobs")
      .select([
        "id",
        "status",
        "consumer_id",
        "provider_id",
        "attempt",
        "cost",
        "created_at",
        "finished_at",
        this.jsonText("spec", "runtime").as("runtime"),
        sql<string | null>`coalesce(${this.jsonText("spec", "model")}, ${this.jsonText("spec", "module")})`.as(
          "target",
        ),
        this.jsonNum("units", "standardUnits").as("su"),
      ]);
    if (q.status !== undefined) query = query.where("status", "=", q.status);
    if (q.consumerId !== undefined) query = query.where("consumer_id", "=", q.consumerId);
    if (q.providerId !== undefined) query = query.where("provider_id", "=", q.providerId);
    if (q.runtime !== undefined)
      query = query.where(this.jsonText("spec", "runtime") as Expression<string>, "=", q.runtime);
    if (q.idPrefix !== undefined) {
      // a range on the primary key instead of LIKE, so the prefix search uses the index
      query = query.where("id", ">=", q.idPrefix).where("id", "<", `${q.idPrefix}\uffff`);
    }
    const before = q.before;
    if (before !== undefined) {
      query = query.where((eb) => {
        const at = eb.selectFrom("jobs as c").select("c.created_at").where("c.id", "=", before);
        return eb.or([
          eb("jobs.created_at", "<", at),
          eb.and([eb("jobs.created_at", "=", at), eb("jobs.id", "<", before)]),
        ]);
      });
    }
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      status: r.status as JobRecord["status"],
      runtime: r.runtime ?? "unknown",
      target: r.target,
      consumerId: r.consumer_id,
      providerId: r.provider_id,
      attempt: num(r.attempt),
      cost: r.cost === null ? null : money(r.cost),
      standardUnits: r.cost === null ? null : Math.round(num(r.su)),
      createdAt: num(r.created_at),
      finishedAt: numOrNull(r.finished_at),
    }));
  }

  private regionExpr(): RawBuilder<string | null> {
    return this.jsonText("capabilities", "region");
  }

  async providersPage(q: {
    limit: number;
    offset: number;
    sort: ProviderSort;
    region?: string;
    onlineOnly?: boolean;
  }): Promise<{ total: number; rows: ProviderPageRow[] }> {
    let filtered = this.db.selectFrom("providers as p");
    if (q.region !== undefined) filtered = filtered.where(this.regionExpr() as Expression<string>, "=", q.region);
    if (q.onlineOnly) filtered = filtered.where("p.online", "<>", 0);
    const total = await filtered.select((eb) => eb.fn.countAll<DbInt>().as("n")).executeTakeFirst();
    // each provider's ledger accounts, joined by primary key (the count above needs none of them)
    const base = filtered
      .leftJoin("accounts as a", (j) => j.on(sql`a.name`, "=", sql`'provider:' || p.id || ':earnings'`))
      .leftJoin("accounts as s", (j) => j.on(sql`s.name`, "=", sql`'provider:' || p.id || ':stake'`))
      .leftJoin("accounts as u", (j) => j.on(sql`u.name`, "=", sql`'provider:' || p.id || ':unbonding'`));
    const earnings = sql<DbInt>`coalesce(a.balance, 0)`;
    const stake = sql<DbInt>`coalesce(s.balance, 0)`;
    let page = base
      .selectAll("p")
      .select([earnings.as("earnings"), stake.as("stake"), sql<DbInt>`coalesce(u.balance, 0)`.as("unbonding")]);
    if (q.sort === "earnings") page = page.orderBy(earnings, "desc");
    else if (q.sort === "stake") page = page.orderBy(stake, "desc");
    else if (q.sort === "completed") page = page.orderBy("p.completed", "desc");
    else if (q.sort === "lastSeen") page = page.orderBy("p.online", "desc").orderBy("p.last_seen_at", "desc");
    const rows = await page.orderBy("p.id").limit(q.limit).offset(q.offset).execute();
    return {
      total: total ? num(total.n) : 0,
      rows: rows.map((r) => ({
        ...rowToProvider(r),
        earnings: money(r.earnings),
        stake: money(r.stake),
        unbonding: money(r.unbonding),
      })),
    };
  }

  async regions(): Promise<RegionRow[]> {
    const capacity = this.jsonNum("capabilities", "maxConcurrency");
    const rows = await this.db
      .selectFrom("providers")
      .select((eb) => [
        this.regionExpr().as("region"),
        eb.fn.countAll<DbInt>().as("n"),
        eb.fn.sum<DbInt>("online").as("online"),
        eb.fn.sum<DbInt>(capacity).as("capacity"),
        eb.fn.sum<DbInt>(sql`case when online <> 0 then ${capacity} else 0 end`).as("online_capacity"),
      ])
      // by position: PostgreSQL does not see two parameterised copies of an expression as the same
      .groupBy(sql`1`)
      // ties by name, nulls (no region) last on both dialects
      .orderBy("n", "desc")
      .orderBy(sql`1`, (o) => o.asc().nullsLast())
      .execute();
    return rows.map((r) => ({
      region: r.region ?? "unknown",
      providers: num(r.n),
      online: num(r.online ?? 0),
      capacity: num(r.capacity ?? 0),
      onlineCapacity: num(r.online_capacity ?? 0),
    }));
  }

  /**
   * Completed and failed jobs and earnings of one provider, per bucket since `from`. Earnings are
   * what its settles paid it (the consumer's cost less the protocol fee), from the ledger.
   */
  async providerHistory(providerId: string, from: number, bucketMs: number): Promise<HistoryBucket[]> {
    const jobs = await this.db
      .selectFrom("jobs")
      .select((eb) => [
        // a literal: better-sqlite3 binds a JS number as REAL, and REAL division makes every job its own bucket
        sql<DbInt>`(finished_at / ${sql.lit(Math.trunc(bucketMs))})`.as("b"),
        eb.fn.sum<DbInt>(sql`case when status = 'completed' then 1 else 0 end`).as("completed"),
        eb.fn.sum<DbInt>(sql`case when status = 'failed' then 1 else 0 end`).as("failed"),
      ])
      .where("provider_id", "=", providerId)
      .where("finished_at", ">=", from)
      .groupBy(sql`1`)
      .execute();
    const paid = await this.db
      .selectFrom("postings")
      .select((eb) => [
        sql<DbInt>`(at / ${sql.lit(Math.trunc(bucketMs))})`.as("b"),
        eb.fn.sum<DbInt>("amount").as("earned"),
      ])
      .where("to_account", "=", accounts.earnings(providerId))
      .where("kind", "=", "settle")
      .where("at", ">=", from)
      .groupBy(sql`1`)
      .execute();
    const buckets = new Map<number, HistoryBucket>();
    const at = (b: DbInt) => {
      const key = num(b) * bucketMs;
      const h = buckets.get(key) ?? { at: key, completed: 0, failed: 0, earned: 0n };
      buckets.set(key, h);
      return h;
    };
    for (const r of jobs) Object.assign(at(r.b), { completed: num(r.completed), failed: num(r.failed) });
    for (const r of paid) at(r.b).earned = money(r.earned);
    return [...buckets.values()].sort((a, b) => a.at - b.at);
  }

  /**
   * Like-for-like comparison of providers over the work they were paid for: completed jobs, streams
   * stopped by their client, WASM jobs that ran out of fuel or trapped. Latency is of completed jobs.
   */
  async leaderboard(limit: number): Promise<LeaderRow[]> {
    const su = this.jsonNum("units", "standardUnits");
    const rows = await this.db
      .selectFrom("jobs")
      .select((eb) => [
        "provider_id",
        eb.fn.countAll<DbInt>().as("jobs"),
        eb.fn.sum<DbInt>(su).as("su"),
        eb.fn.sum<DbInt>(sql`finished_at - started_at`).as("busy"),
        eb.fn.sum<DbInt | null>("cost").as("cost"),
        eb.fn
          .avg<number | string | null>(sql`case when status = 'completed' then finished_at - created_at end`)
          .as("latency"),
      ])
      .where("cost", "is not", null)
      .where("provider_id", "is not", null)
      .groupBy("provider_id")
      .orderBy(sql`sum(${su})`, "desc")
      .orderBy("provider_id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      providerId: r.provider_id ?? "",
      jobs: num(r.jobs),
      standardUnits: Math.round(num(r.su)),
      busyMs: num(r.busy ?? 0),
      cost: r.cost == null ? 0n : money(r.cost),
      avgLatencyMs: Math.round(num(r.latency ?? 0)),
    }));
  }

  async postingsPage(q: { account?: string; jobId?: string; beforeId?: number; limit: number }): Promise<PostingRow[]> {
    let query = this.db.selectFrom("postings").selectAll();
    if (q.jobId !== undefined) query = query.where("job_id", "=", q.jobId);
    const account = q.account;
    if (account !== undefined)
      query = query.where((eb) => eb.or([eb("from_account", "=", account), eb("to_account", "=", account)]));
    if (q.beforeId !== undefined) query = query.where("id", "<", q.beforeId);
    const rows = await query.orderBy("id", "desc").limit(q.limit).execute();
    return rows.map((r) => ({
      id: num(r.id),
      eventId: r.event_id,
      kind: r.kind,
      jobId: r.job_id,
      at: num(r.at),
      from: r.from_account,
      to: r.to_account,
      amount: money(r.amount),
    }));
  }

  /**
   * Accounts whose balance differs from replaying the posting journal (in minus out), in one
   * statement so that both sides are read from the same snapshot. Empty when the ledger is whole.
   */
  async journalMismatches(limit: number): Promise<{ account: string; balance: bigint; journal: bigint }[]> {
    const r = await sql<{ name: string; balance: DbInt; journal: DbInt | null }>`
      select coalesce(a.name, j.acct) as name, coalesce(a.balance, 0) as balance, j.d as journal
      from accounts a
      full outer join (
        select acct, sum(delta) as d from (
          select to_account as acct, amount as delta from postings
          union all
          select from_account as acct, -amount as delta from postings
        ) x group by acct
      ) j on j.acct = a.name
      where coalesce(a.balance, 0) <> coalesce(j.d, 0)
      limit ${limit}`.execute(this.db);
    return r.rows.map((x) => ({
      account: x.name,
      balance: money(x.balance),
      journal: x.journal == null ? 0n : money(x.journal),
    }));
  }

  /**
   * Accounts by name prefix (e.g. "provider:"), paged in name order, with the count. With
   * `onlyConsumer` given, consumer accounts other than that consumer's are left out (null: all).
   */
  async accountsPage(q: {
    prefix?: string;
    onlyConsumer?: string | null;
    offset: number;
    limit: number;
  }): Promise<{ total: number; rows: { name: string; balance: bigint }[] }> {
    let base = this.db.selectFrom("accounts");
    if (q.prefix) base = base.where("name", ">=", q.prefix).where("name", "<", `${q.prefix}\uffff`);
    if (q.onlyConsumer !== undefined) {
      // substr, not a range or LIKE: the same under any collation, and ids may hold LIKE's `_`
      const own = q.onlyConsumer === null ? null : `consumer:${q.onlyConsumer}:`;
      const startsWith = (eb: ExpressionBuilder<Database, "accounts">, p: string) =>
        eb(eb.fn<string>("substr", ["name", eb.lit(1), eb.lit(p.length)]), "=", p);
      base = base.where((eb) =>
        eb.or([eb.not(startsWith(eb, "consumer:")), ...(own === null ? [] : [startsWith(eb, own)])]),
      );
    }
    const total = await base.select((eb) => eb.fn.countAll<DbInt>().as("n")).executeTakeFirst();
    const rows = await base.select(["name", "balance"]).orderBy("name").limit(q.limit).offset(q.offset).execute();
    return { total: total ? num(total.n) : 0, rows: rows.map((r) => ({ name: r.name, balance: money(r.balance) })) };
  }
}

export type ExplorerReads = Pick<ExplorerQueries, keyof ExplorerQueries>;
