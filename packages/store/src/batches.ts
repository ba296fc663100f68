// Batch records: uploaded files (their bytes live on disk; the row says where and what) and
// batches with their lifecycle times and request counts. Written directly, not through group
// commit: a batch row changes a few times a second at most, while its lines' jobs and money
// move through the job tables and the ledger as usual.
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import type { Database, DbInt } from "./schema.js";

type Num = ColumnType<DbInt, number, number>;

export type BatchFilePurpose = "batch" | "batch_output";

export interface BatchFileRecord {
  id: string;
  consumerId: string;
  purpose: BatchFilePurpose;
  filename: string;
  bytes: number;
  /** newline-terminated lines (a last line without a newline counts) */
  lines: number;
  /** where the bytes are, on the gateway's disk */
  path: string;
  createdAt: number;
  /** when the file is gone (a batch's `output_expires_after`); null or absent, never */
  expiresAt?: number | null;
}

export const BATCH_STATUSES = [
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled",
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export type BatchEndpoint = "/v1/chat/completions" | "/v1/completions" | "/v1/jobs";

export interface BatchRecord {
  id: string;
  consumerId: string;
  endpoint: BatchEndpoint;
  inputFileId: string;
  completionWindow: string;
  status: BatchStatus;
  outputFileId: string;
  errorFileId: string;
  createdAt: number;
  expiresAt: number;
  inProgressAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  total: number;
  completed: number;
  failed: number;
  /** nano-credits charged for the completed lines so far */
  spent: bigint;
  metadata: Record<string, string> | null;
  /** OpenAI's `output_expires_after`: its output and error files expire this many seconds after each is created */
  outputExpiresAfterSeconds?: number | null;
  /** batch-level errors (the whole batch failed validation) */
  errors: { code: string; message: string; line: number | null }[] | null;
}

interface BatchFilesTable {
  id: string;
  consumer_id: string;
  created_at: Num;
  data: string;
  /** from migration 0014; kept beside `data` so that a list can filter on it */
  purpose: string;
  /** from migration 0016; kept beside `data` so that expired files can be found and skipped */
  expires_at: ColumnType<DbInt | null, number | null, number | null>;
}
interface BatchesTable {
  id: string;
  consumer_id: string;
  status: string;
  created_at: Num;
  data: string;
}
type BatchDb = Database & { batch_files: BatchFilesTable; batches: BatchesTable };

export const batchesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("batch_files")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("consumer_id", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("data", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("batch_files_consumer")
      .on("batch_files")
      .columns(["consumer_id", "created_at"])
      .execute();
    await db.schema
      .createTable("batches")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("consumer_id", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("data", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("batches_consumer")
      .on("batches")
      .columns(["consumer_id", "created_at", "id"])
      .execute();
    await db.schema.createIndex("batches_status").on("batches").column("status").execute();
  },
};

/** A purpose column for `GET /v1/files?purpose=`, filled in from each stored record. */
export const batchFilePurposeMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("batch_files")
      .addColumn("purpose", "text", (c) => c.notNull().defaultTo("batch"))
      .execute();
    const files = db as unknown as Kysely<BatchDb>;
    const rows = await files.selectFrom("batch_files").select(["id", "data"]).execute();
    for (const r of rows) {
      const purpose = (JSON.parse(r.data) as BatchFileRecord).purpose;
      if (purpose !== "batch") await files.updateTable("batch_files").set({ purpose }).where("id", "=", r.id).execute();
    }
  },
};

/** When a file expires (a batch's `output_expires_after`), indexed so that expired files are found without a scan. */
export const batchFileExpiryMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("batch_files").addColumn("expires_at", "bigint").execute();
    await db.schema.createIndex("batch_files_expiry").on("batch_files").column("expires_at").execute();
  },
};

/** Newest first (OpenAI's default) or oldest first; `after` is the last id of the previous page. */
export interface PageQuery {
  after?: string;
  limit: number;
  order?: "asc" | "desc";
  /** files only: leave out those expired at this time */
  liveAt?: number;
}

export interface BatchStore {
  putFile(f: BatchFileRecord): Promise<void>;
  getFile(id: string): Promise<BatchFileRecord | undefined>;
  listFiles(consumerId: string, q: PageQuery & { purpose?: BatchFilePurpose }): Promise<BatchFileRecord[]>;
  /** removes the record; false when there was none */
  deleteFile(id: string): Promise<boolean>;
  /** up to `limit` files whose expiry is at or before `now`, the earliest first */
  expiredFiles(now: number, limit: number): Promise<BatchFileRecord[]>;
  /** inserted when absent, replaced when present */
  putBatch(b: BatchRecord): Promise<void>;
  getBatch(id: string): Promise<BatchRecord | undefined>;
  /** newest first; `after` is the id of the last batch of the previous page */
  listBatches(consumerId: string, q: { after?: string; limit: number }): Promise<BatchRecord[]>;
  /** batches a restarted gateway must pick up again */
  unfinishedBatches(): Promise<BatchRecord[]>;
}

const UNFINISHED: BatchStatus[] = ["validating", "in_progress", "finalizing", "cancelling"];

function toData(b: BatchRecord): string {
  return JSON.stringify({ ...b, spent: b.spent.toString() });
}
function fromData(text: string): BatchRecord {
  const raw = JSON.parse(text) as Omit<BatchRecord, "spent"> & { spent: string };
  return { ...raw, spent: BigInt(raw.spent) };
}

export class KyselyBatchStore implements BatchStore {
  private readonly db: Kysely<BatchDb>;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<BatchDb>;
  }

  async putFile(f: BatchFileRecord): Promise<void> {
    await this.db
      .insertInto("batch_files")
      .values({
        id: f.id,
        consumer_id: f.consumerId,
        created_at: f.createdAt,
        data: JSON.stringify(f),
        purpose: f.purpose,
        expires_at: f.expiresAt ?? null,
      })
      .onConflict((oc) => oc.column("id").doUpdateSet({ data: JSON.stringify(f), expires_at: f.expiresAt ?? null }))
      .execute();
  }

  async getFile(id: string): Promise<BatchFileRecord | undefined> {
    const r = await this.db.selectFrom("batch_files").select("data").where("id", "=", id).executeTakeFirst();
    return r && (JSON.parse(r.data) as BatchFileRecord);
  }

  async listFiles(consumerId: string, q: PageQuery & { purpose?: BatchFilePurpose }): Promise<BatchFileRecord[]> {
    return (await this.page("batch_files", consumerId, q)).map((d) => JSON.parse(d) as BatchFileRecord);
  }

  async deleteFile(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom("batch_files").where("id", "=", id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async expiredFiles(now: number, limit: number): Promise<BatchFileRecord[]> {
    const rows = await this.db
      .selectFrom("batch_files")
      .select("data")
      .where("expires_at", "<=", now)
      .orderBy("expires_at")
      .limit(limit)
      .execute();
    return rows.map((r) => JSON.parse(r.data) as BatchFileRecord);
  }

  async putBatch(b: BatchRecord): Promise<void> {
    const data = toData(b);
    await this.db
      .insertInto("batches")
      .values({ id: b.id, consumer_id: b.consumerId, status: b.status, created_at: b.createdAt, data })
      .onConflict((oc) => oc.column("id").doUpdateSet({ status: b.status, data }))
      .execute();
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const r = await this.db.selectFrom("batches").select("data").where("id", "=", id).executeTakeFirst();
    return r && fromData(r.data);
  }

  async listBatches(consumerId: string, q: { after?: string; limit: number }): Promise<BatchRecord[]> {
    return (await this.page("batches", consumerId, q)).map(fromData);
  }

  /** A consumer's records in creation order, after the one named `after` (keyset paging on created_at, id). */
  private async page(
    table: "batch_files" | "batches",
    consumerId: string,
    q: PageQuery & { purpose?: BatchFilePurpose },
  ): Promise<string[]> {
    // both tables have the columns read here; naming one for the types keeps the builder typed
    const t = table as "batches";
    const desc = (q.order ?? "desc") === "desc";
    const beyond = desc ? "<" : ">";
    let query = this.db.selectFrom(t).select("data").where("consumer_id", "=", consumerId);
    // only batch_files has a purpose
    if (q.purpose !== undefined) query = query.where(sql.ref("purpose"), "=", q.purpose);
    // only batch_files expire
    const live = q.liveAt;
    if (live !== undefined)
      query = query.where((eb) => eb.or([eb(sql.ref("expires_at"), "is", null), eb(sql.ref("expires_at"), ">", live)]));
    const after = q.after;
    if (after !== undefined) {
      query = query.where((eb) => {
        const at = eb.selectFrom(t).select("created_at").where("id", "=", after);
        return eb.or([eb("created_at", beyond, at), eb.and([eb("created_at", "=", at), eb("id", beyond, after)])]);
      });
    }
    const dir = desc ? "desc" : "asc";
    const rows = await query.orderBy("created_at", dir).orderBy("id", dir).limit(q.limit).execute();
    return rows.map((r) => r.data);
  }

  async unfinishedBatches(): Promise<BatchRecord[]> {
    const rows = await this.db
      .selectFrom("batches")
      .select(["data", "created_at"])
      .where("status", "in", UNFINISHED)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => fromData(r.data));
  }
}
