// The Store over Kysely: one implementation for both dialects. Reads are single queries;
// writes other than the small admin ones go through commit (group commit, commit/execute.ts).
import type { AttemptRecord, JobRecord } from "@tessera/core";
import { JOB_STATUSES } from "@tessera/protocol";
import { type Kysely, sql } from "kysely";
import { KyselyBatchStore } from "./batches.js";
import { KyselyChainBindingStore } from "./chain-bindings.js";
import { KyselyChainEvidenceStore } from "./chain-evidence.js";
import { KyselyChainWithdrawalStore } from "./chain-withdrawals.js";
import { commitBatch } from "./commit/execute.js";
import type { DatabaseHold } from "./exclusive.js";
import { ExplorerQueries } from "./explorer.js";
import { type Dialect, migrateToLatest } from "./migrations.js";
import { KyselyReputationStore } from "./reputation.js";
import { money, num, rowToApiKey, rowToAttempt, rowToConsumer, rowToJob, rowToProvider } from "./rows.js";
import type { Database, DbInt } from "./schema.js";
import { KyselySettlementStore } from "./settlement.js";
import type {
  ApiKeyRecord,
  ConsumerRecord,
  JobQuery,
  OpResult,
  Posting,
  ProviderRecord,
  Store,
  WriteOp,
} from "./types.js";
import { KyselyVerificationStore } from "./verification.js";

export class KyselyStore implements Store {
  readonly explorer: ExplorerQueries;
  readonly verification: KyselyVerificationStore;
  readonly reputation: KyselyReputationStore;
  readonly batches: KyselyBatchStore;
  readonly settlement: KyselySettlementStore;
  readonly chain: KyselyChainEvidenceStore;
  readonly withdrawals: KyselyChainWithdrawalStore;
  readonly bindings: KyselyChainBindingStore;

  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    /** the database held for this process alone (exclusive.ts), let go on close */
    private readonly hold?: DatabaseHold,
  ) {
    this.explorer = new ExplorerQueries(db, dialect);
    this.verification = new KyselyVerificationStore(db);
    this.reputation = new KyselyReputationStore(db);
    this.batches = new KyselyBatchStore(db);
    this.settlement = new KyselySettlementStore(db);
    this.chain = new KyselyChainEvidenceStore(db);
    this.withdrawals = new KyselyChainWithdrawalStore(db);
    this.bindings = new KyselyChainBindingStore(db);
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.db as Kysely<unknown>, this.dialect);
  }

  async close(): Promise<void> {
    try {
      await this.db.destroy();
    } finally {
      await this.hold?.release();
    }
  }

  commit(ops: WriteOp[]): Promise<OpResult[]> {
    return commitBatch(this.db, this.dialect, ops);
  }

  async createConsumer(c: ConsumerRecord): Promise<void> {
    await this.db.insertInto("consumers").values({ id: c.id, name: c.name, created_at: c.createdAt }).execute();
  }

  async getConsumer(id: string): Promise<ConsumerRecord | undefined> {
    const r = await this.db.selectFrom("consumers").selectAll().where("id", "=", id).executeTakeFirst();
    return r && rowToConsumer(r);
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto("api_keys")
      .values({
        hash: k.hash,
        consumer_id: k.consumerId,
        scopes: JSON.stringify(k.scopes),
        created_at: k.createdAt,
        revoked_at: k.revokedAt,
      })
      .execute();
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.db.selectFrom("api_keys").selectAll().where("hash", "=", hash).executeTakeFirst();
    return r && rowToApiKey(r);
  }

  async revokeApiKey(hash: string, at: number): Promise<void> {
    // the first revocation time stands
    await this.db
      .updateTable("api_keys")
      .set({ revoked_at: at })
      .where("hash", "=", hash)
      .where("revoked_at", "is", null)
      .execute();
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const r = await this.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
    return r && rowToJob(r);
  }

  async getJobs(ids: readonly string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom("jobs")
      .selectAll()
      .where("id", "in", [...ids])
      .execute();
    return rows.map(rowToJob);
  }

  async jobByIdempotencyKey(consumerId: string, key: string): Promise<JobRecord | undefined> {
    const r = await this.db
      .selectFrom("idempotency_keys as k")
      .innerJoin("jobs", "jobs.id", "k.job_id")
      .selectAll("jobs")
      .where("k.consumer_id", "=", consumerId)
      .where("k.idem_key", "=", key)
      .executeTakeFirst();
    return r && rowToJob(r);
  }

  async listJobs(q: JobQuery): Promise<JobRecord[]> {
    const rows = await this.jobsQuery(q).selectAll().execute();
    return rows.map(rowToJob);
  }

  async listJobSizes(q: JobQuery): Promise<{ id: string; outputChars: number }[]> {
    const rows = await this.jobsQuery(q)
      .select(["id", sql<number | string>`coalesce(length(output), 0)`.as("chars")])
      .execute();
    return rows.map((r) => ({ id: r.id, outputChars: Number(r.chars) }));
  }

  private jobsQuery(q: JobQuery) {
    let query = this.db.selectFrom("jobs");
    if (q.consumerId !== undefined) query = query.where("consumer_id", "=", q.consumerId);
    if (q.status !== undefined) query = query.where("status", "=", q.status);
    if (q.providerId !== undefined) query = query.where("provider_id", "=", q.providerId);
    const before = q.before;
    if (before !== undefined) {
      query = query.where((eb) => {
        const cursorAt = eb.selectFrom("jobs as c").select("c.created_at").where("c.id", "=", before);
        return eb.or([
          eb("jobs.created_at", "<", cursorAt),
          eb.and([eb("jobs.created_at", "=", cursorAt), eb("jobs.id", "<", before)]),
        ]);
      });
    }
    return query.orderBy("created_at", "desc").orderBy("id", "desc").limit(q.limit);
  }

  async activeJobs(): Promise<JobRecord[]> {
    const rows = await this.db
      .selectFrom("jobs")
      .selectAll()
      .where("status", "in", ["queued", "running"])
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(rowToJob);
  }

  async attempts(jobId: string): Promise<AttemptRecord[]> {
    const rows = await this.db
      .selectFrom("attempts")
      .selectAll()
      .where("job_id", "=", jobId)
      .orderBy("attempt")
      .execute();
    return rows.map(rowToAttempt);
  }

  async countJobsByStatus(): Promise<Record<JobRecord["status"], number>> {
    const rows = await this.db
      .selectFrom("jobs")
      .select((eb) => ["status", eb.fn.countAll<DbInt>().as("n")])
      .groupBy("status")
      .execute();
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobRecord["status"], number>;
    for (const r of rows) counts[r.status as JobRecord["status"]] = num(r.n);
    return counts;
  }

  async balance(account: string): Promise<bigint> {
    const r = await this.db.selectFrom("accounts").select("balance").where("name", "=", account).executeTakeFirst();
    return r ? money(r.balance) : 0n;
  }

  async balances(): Promise<Map<string, bigint>> {
    const rows = await this.db.selectFrom("accounts").select(["name", "balance"]).orderBy("name").execute();
    return new Map(rows.map((r) => [r.name, money(r.balance)]));
  }

  async postings(q: { jobId?: string; account?: string; eventId?: string; limit: number }): Promise<Posting[]> {
    let query = this.db.selectFrom("postings").selectAll();
    if (q.jobId !== undefined) query = query.where("job_id", "=", q.jobId);
    if (q.eventId !== undefined) query = query.where("event_id", "=", q.eventId);
    const account = q.account;
    if (account !== undefined)
      query = query.where((eb) => eb.or([eb("from_account", "=", account), eb("to_account", "=", account)]));
    const rows = await query.orderBy("id", "desc").limit(q.limit).execute();
    return rows.map((r) => ({
      eventId: r.event_id,
      kind: r.kind as Posting["kind"],
      jobId: r.job_id,
      at: num(r.at),
      from: r.from_account,
      to: r.to_account,
      amount: money(r.amount),
    }));
  }

  async spent(consumerId: string): Promise<bigint> {
    const r = await this.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.sum<DbInt | null>("cost").as("total"))
      .where("consumer_id", "=", consumerId)
      // completed jobs, and stopped streams billed for what they streamed
      .where("cost", "is not", null)
      .executeTakeFirst();
    return r?.total == null ? 0n : money(r.total);
  }

  async getProvider(id: string): Promise<ProviderRecord | undefined> {
    const r = await this.db.selectFrom("providers").selectAll().where("id", "=", id).executeTakeFirst();
    return r && rowToProvider(r);
  }

  async listProviders(): Promise<ProviderRecord[]> {
    const rows = await this.db.selectFrom("providers").selectAll().orderBy("id").execute();
    return rows.map(rowToProvider);
  }

  async markAllProvidersOffline(): Promise<void> {
    await this.db.updateTable("providers").set({ online: 0 }).where("online", "<>", 0).execute();
  }

  async putBlob(id: string, bytes: Uint8Array, at: number): Promise<void> {
    // blobs are named by content: a second put of the same id changes nothing
    await this.db
      .insertInto("blobs")
      .values({
        id,
        bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        size: bytes.byteLength,
        created_at: at,
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }

  async getBlob(id: string): Promise<Uint8Array | undefined> {
    const r = await this.db.selectFrom("blobs").select("bytes").where("id", "=", id).executeTakeFirst();
    return r ? new Uint8Array(r.bytes) : undefined;
  }

  async hasBlob(id: string): Promise<boolean> {
    const r = await this.db.selectFrom("blobs").select("id").where("id", "=", id).executeTakeFirst();
    return r !== undefined;
  }
}
