// The gateway's durable state behind one interface, so SQLite (default) and PostgreSQL
// (scale-out) are interchangeable. Writes arrive as batches of operations committed in one
// transaction (group commit); each operation is all-or-nothing on its own.
import type { AttemptRecord, JobRecord, LedgerEvent } from "@tessera/core";
import type { Capabilities, TesseraError } from "@tessera/protocol";
import type { BatchStore } from "./batches.js";
import type { ChainBindingStore } from "./chain-bindings.js";
import type { ChainEvidenceStore } from "./chain-evidence.js";
import type { ChainWithdrawalStore } from "./chain-withdrawals.js";
import type { ExplorerReads } from "./explorer.js";
import type { ReputationStore } from "./reputation.js";
import type { SettlementStore } from "./settlement.js";
import type { VerificationStore } from "./verification.js";

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
  /**
   * inserted when absent; when present, its lifecycle (status, attempt, lease, result, times) is
   * replaced and what it was submitted with (consumer, spec, constraints, class, escrow, keys,
   * creation time, deadline) is kept
   */
  job?: JobRecord;
  /** upsert by (jobId, attempt); on conflict only endedAt, outcome and reason change */
  attempt?: AttemptRecord;
  /**
   * applied at most once, by event id: an event already applied is skipped (the op still
   * succeeds). An event that would leave an internal account negative fails the op with
   * InsufficientBalance and nothing of the op is written.
   */
  ledger?: LedgerEvent;
  /**
   * claim (consumerId, key) -> jobId; a key already claimed by another job fails the op with
   * IdempotencyConflict (a key claimed by this same job is not a conflict, so a replayed op succeeds)
   */
  idempotency?: { consumerId: string; key: string; jobId: string };
  provider?: ProviderRecord;
  /**
   * a node's share book (JSON), written only when this op applies its ledger event: the money a
   * claim or distribution moves and the book that records it commit together or not at all, and a
   * replayed event does not rewrite the book
   */
  sharesBook?: { providerId: string; book: string; at: number };
}

/** ledgerApplied: the op's ledger event was applied by this op (false when it has none or was applied before) */
export type OpResult = { ok: true; ledgerApplied: boolean } | { ok: false; error: TesseraError };

export interface JobQuery {
  consumerId?: string;
  status?: JobRecord["status"];
  providerId?: string;
  /** return jobs created strictly before this job (cursor paging, newest first); an unknown id yields none */
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
  /** read-only paged and aggregated queries for the dashboard and explorer (explorer.ts) */
  readonly explorer: ExplorerReads;
  /** audits, signed verdicts and stake unbondings (verification.ts) */
  readonly verification: VerificationStore;
  /** per-node verification records that survive a restart (reputation.ts) */
  readonly reputation: ReputationStore;
  /** uploaded files and OpenAI-style batches (batches.ts) */
  readonly batches: BatchStore;
  /** custodial chain accounts, signed vouchers, node share books (settlement.ts) */
  readonly settlement: SettlementStore;
  /** EIP-712 slashing evidence and on-chain slashes (chain-evidence.ts) */
  readonly chain: ChainEvidenceStore;
  /** consumers' withdrawals through the custodian (chain-withdrawals.ts) */
  readonly withdrawals: ChainWithdrawalStore;
  /** consumers bound to their own chain address, who sign their own vouchers (chain-bindings.ts) */
  readonly bindings: ChainBindingStore;
  migrate(): Promise<void>;
  close(): Promise<void>;

  /**
   * One transaction for the whole batch, ops decided in order (each sees the ones before it);
   * one result per op. Rejects, with nothing of the batch written, when the database fails.
   */
  commit(ops: WriteOp[]): Promise<OpResult[]>;

  createConsumer(c: ConsumerRecord): Promise<void>;
  getConsumer(id: string): Promise<ConsumerRecord | undefined>;
  createApiKey(k: ApiKeyRecord): Promise<void>;
  /** revoked keys are returned too, with revokedAt set: the caller decides */
  findApiKey(hash: string): Promise<ApiKeyRecord | undefined>;
  /** a key already revoked keeps its first revocation time */
  revokeApiKey(hash: string, at: number): Promise<void>;

  getJob(id: string): Promise<JobRecord | undefined>;
  /** the jobs among `ids` that exist, in no particular order */
  getJobs(ids: readonly string[]): Promise<JobRecord[]>;
  jobByIdempotencyKey(consumerId: string, key: string): Promise<JobRecord | undefined>;
  listJobs(q: JobQuery): Promise<JobRecord[]>;
  /** what listJobs would return, as ids and the characters of each job's stored output (0: none), without the jobs */
  listJobSizes(q: JobQuery): Promise<{ id: string; outputChars: number }[]>;
  /** queued and running jobs, oldest first: what a restarted gateway must pick up again */
  activeJobs(): Promise<JobRecord[]>;
  attempts(jobId: string): Promise<AttemptRecord[]>;
  countJobsByStatus(): Promise<Record<JobRecord["status"], number>>;

  balance(account: string): Promise<bigint>;
  balances(): Promise<Map<string, bigint>>;
  /** newest first; `account` matches either side of a posting */
  postings(q: { jobId?: string; account?: string; eventId?: string; limit: number }): Promise<Posting[]>;
  /** sum of `cost` over the consumer's completed jobs */
  spent(consumerId: string): Promise<bigint>;

  getProvider(id: string): Promise<ProviderRecord | undefined>;
  listProviders(): Promise<ProviderRecord[]>;
  markAllProvidersOffline(): Promise<void>;

  /** blobs are named by content: putting an id that exists changes nothing */
  putBlob(id: string, bytes: Uint8Array, at: number): Promise<void>;
  getBlob(id: string): Promise<Uint8Array | undefined>;
  hasBlob(id: string): Promise<boolean>;
}
