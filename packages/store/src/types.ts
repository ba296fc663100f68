// The gateway's durable state behind one interface, so SQLite (default) and PostgreSQL
// (scale-out) are interchangeable. Writes arrive as batches of operations committed in one
// transaction (group commit); each operation is all-or-nothing on its own.
import type { Capabilities } from "@tessera/protocol";
import type { TesseraError } from "@tessera/protocol";
import type { AttemptRecord, JobRecord, LedgerEvent } from "@tessera/core";

export interface ConsumerRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface ApiKeyRecord {
  /** sha256 hex of the secret key; the key itself is never stored */
  hash: string;
  consumerId: string;
  /** e.g. ["jobs", "admin"] */
  scopes: string[];
  createdAt: number;
  revokedAt: number | null;
}

export interface ProviderRecord {
  id: string;
  capabilities: Capabilities;
  firstSeenAt: number;
  lastSeenAt: number;
  online: boolean;
  completed: number;
  failed: number;
}

/** One all-or-nothing unit inside a batch. */
export interface WriteOp {
  /** inserted when absent, replaced when present */
  job?: JobRecord;
  /** upsert by (jobId, attempt); on conflict only endedAt, outcome and reason change */
  attempt?: AttemptRecord;
  /**
   * applied at most once, by event id: an event already applied is skipped (the op still
   * succeeds). An event that would leave an internal account negative fails the op with
   * InsufficientBalance and nothing of the op is written.
   */
  ledger?: LedgerEvent;
  /** claim (consumerId, key) -> jobId; a key already claimed fails the op with IdempotencyConflict */
  idempotency?: { consumerId: string; key: string; jobId: string };
  provider?: ProviderRecord;
}

export type OpResult = { ok: true; ledgerApplied: boolean } | { ok: false; error: TesseraError };

export interface JobQuery {
  consumerId?: string;
  status?: JobRecord["status"];
  providerId?: string;
  /** return jobs created strictly before this job (cursor paging, newest first) */
  before?: string;
  limit: number;
}

export interface Posting {
  eventId: string;
  kind: LedgerEvent["kind"];
  jobId: string | null;
  at: number;
  from: string;
  to: string;
  amount: bigint;
}

export interface Store {
  readonly dialect: "sqlite" | "postgres";
  migrate(): Promise<void>;
  close(): Promise<void>;

  commit(ops: WriteOp[]): Promise<OpResult[]>;

  createConsumer(c: ConsumerRecord): Promise<void>;
  getConsumer(id: string): Promise<ConsumerRecord | undefined>;
  createApiKey(k: ApiKeyRecord): Promise<void>;
  findApiKey(hash: string): Promise<ApiKeyRecord | undefined>;
  revokeApiKey(hash: string, at: number): Promise<void>;

  getJob(id: string): Promise<JobRecord | undefined>;
  jobByIdempotencyKey(consumerId: string, key: string): Promise<JobRecord | undefined>;
  listJobs(q: JobQuery): Promise<JobRecord[]>;
  /** queued and running jobs: what a restarted gateway must pick up again */
  activeJobs(): Promise<JobRecord[]>;
  attempts(jobId: string): Promise<AttemptRecord[]>;
  countJobsByStatus(): Promise<Record<JobRecord["status"], number>>;

  balance(account: string): Promise<bigint>;
  balances(): Promise<Map<string, bigint>>;
  postings(q: { jobId?: string; account?: string; limit: number }): Promise<Posting[]>;
  /** sum of settled costs of the consumer's jobs */
  spent(consumerId: string): Promise<bigint>;

  getProvider(id: string): Promise<ProviderRecord | undefined>;
  listProviders(): Promise<ProviderRecord[]>;
  markAllProvidersOffline(): Promise<void>;

  putBlob(id: string, bytes: Uint8Array, at: number): Promise<void>;
  getBlob(id: string): Promise<Uint8Array | undefined>;
}
