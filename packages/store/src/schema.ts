// Row types of the store's tables as Kysely sees them. Integers come back as bigint
// (better-sqlite3 with safe integers), number (pg int4) or string (pg int8, numeric), so every
// integer column reads as DbInt and is converted in rows.ts; JSON lives in text columns.
import type { ColumnType, Generated } from "kysely";

export type DbInt = number | bigint | string;
/** non-money integer: times, counters, flags */
type Num = ColumnType<DbInt, number, number>;
type NullableNum = ColumnType<DbInt | null, number | null, number | null>;
/** money, nano-credits: always written as bigint */
type Money = ColumnType<DbInt, bigint, bigint>;
type NullableMoney = ColumnType<DbInt | null, bigint | null, bigint | null>;

export interface ConsumersTable {
  id: string;
  name: string;
  created_at: Num;
}

export interface ApiKeysTable {
  hash: string;
  consumer_id: string;
  scopes: string;
  created_at: Num;
  revoked_at: NullableNum;
}

export interface JobsTable {
  id: string;
  consumer_id: string;
  spec: string;
  constraints: string;
  job_class: string;
  status: string;
  attempt: Num;
  max_attempts: Num;
  provider_id: string | null;
  price_per_unit: NullableNum;
  lease_expires_at: NullableNum;
  tried_providers: string;
  escrow: Money;
  cost: NullableMoney;
  units: string | null;
  output: string | null;
  output_hash: string | null;
  signature: string | null;
  error: string | null;
  idempotency_key: string | null;
  request_hash: string;
  created_at: Num;
  updated_at: Num;
  started_at: NullableNum;
  finished_at: NullableNum;
  deadline_at: NullableNum;
}

export interface IdempotencyKeysTable {
  consumer_id: string;
  idem_key: string;
  job_id: string;
}

export interface AttemptsTable {
  job_id: string;
  attempt: Num;
  provider_id: string;
  leased_at: Num;
  ended_at: NullableNum;
  outcome: string;
  reason: string | null;
}

export interface AccountsTable {
  name: string;
  balance: Money;
}

export interface LedgerEventsTable {
  id: string;
  kind: string;
  job_id: string | null;
  at: Num;
}

export interface PostingsTable {
  id: Generated<DbInt>;
  event_id: string;
  kind: string;
  job_id: string | null;
  from_account: string;
  to_account: string;
  amount: Money;
  at: Num;
}

export interface ProvidersTable {
  id: string;
  capabilities: string;
  first_seen_at: Num;
  last_seen_at: Num;
  /** 0 or 1: booleans are not portable between the dialects' drivers */
  online: Num;
  completed: Num;
  failed: Num;
}

export interface BlobsTable {
  id: string;
  bytes: Uint8Array;
  size: Num;
  created_at: Num;
}

export interface Database {
  consumers: ConsumersTable;
  api_keys: ApiKeysTable;
  jobs: JobsTable;
  idempotency_keys: IdempotencyKeysTable;
  attempts: AttemptsTable;
  accounts: AccountsTable;
  ledger_events: LedgerEventsTable;
  postings: PostingsTable;
  providers: ProvidersTable;
  blobs: BlobsTable;
}
