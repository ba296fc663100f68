// Conversions between domain records and table rows: JSON text columns, 0/1 flags, and
// integers that each driver returns in its own type (bigint, number or decimal string).
import type { AttemptRecord, JobRecord } from "@tessera/core";
import type { Insertable, Selectable } from "kysely";
import type { ApiKeysTable, AttemptsTable, ConsumersTable, DbInt, JobsTable, ProvidersTable } from "./schema.js";
import type { ApiKeyRecord, ConsumerRecord, ProviderRecord } from "./types.js";

export function num(v: DbInt): number {
  return typeof v === "number" ? v : Number(v);
}
export function numOrNull(v: DbInt | null): number | null {
  return v === null ? null : num(v);
}
export function money(v: DbInt): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}
export function moneyOrNull(v: DbInt | null): bigint | null {
  return v === null ? null : money(v);
}
function json<T>(text: string): T {
  return JSON.parse(text) as T;
}
function jsonOrNull<T>(text: string | null): T | null {
  return text === null ? null : json<T>(text);
}

export function jobToRow(j: JobRecord): Insertable<JobsTable> {
  return {
    id: j.id,
    consumer_id: j.consumerId,
    spec: JSON.stringify(j.spec),
    constraints: JSON.stringify(j.constraints),
    job_class: j.jobClass,
    status: j.status,
    attempt: j.attempt,
    max_attempts: j.maxAttempts,
    provider_id: j.providerId,
    price_per_unit: j.pricePerUnit,
    lease_expires_at: j.leaseExpiresAt,
    tried_providers: JSON.stringify(j.triedProviders),
    escrow: j.escrow,
    cost: j.cost,
    units: j.units === null ? null : JSON.stringify(j.units),
    output: j.output === null ? null : JSON.stringify(j.output),
    output_hash: j.outputHash,
    signature: j.signature,
    error: j.error,
    idempotency_key: j.idempotencyKey,
    request_hash: j.requestHash,
    created_at: j.createdAt,
    updated_at: j.updatedAt,
    started_at: j.startedAt,
    finished_at: j.finishedAt,
    deadline_at: j.deadlineAt,
  };
}

export function rowToJob(r: Selectable<JobsTable>): JobRecord {
  return {
    id: r.id,
    consumerId: r.consumer_id,
    spec: json(r.spec),
    constraints: json(r.constraints),
    jobClass: r.job_class as JobRecord["jobClass"],
    status: r.status as JobRecord["status"],
    attempt: num(r.attempt),
    maxAttempts: num(r.max_attempts),
    providerId: r.provider_id,
    pricePerUnit: numOrNull(r.price_per_unit),
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    triedProviders: json(r.tried_providers),
    escrow: money(r.escrow),
    cost: moneyOrNull(r.cost),
    units: jsonOrNull(r.units),
    output: jsonOrNull(r.output),
    outputHash: r.output_hash,
    signature: r.signature,
    error: r.error,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
    deadlineAt: numOrNull(r.deadline_at),
  };
}

export function attemptToRow(a: AttemptRecord): Insertable<AttemptsTable> {
  return {
    job_id: a.jobId,
    attempt: a.attempt,
    provider_id: a.providerId,
    leased_at: a.leasedAt,
    ended_at: a.endedAt,
    outcome: a.outcome,
    reason: a.reason,
  };
}

export function rowToAttempt(r: Selectable<AttemptsTable>): AttemptRecord {
  return {
    jobId: r.job_id,
    attempt: num(r.attempt),
    providerId: r.provider_id,
    leasedAt: num(r.leased_at),
    endedAt: numOrNull(r.ended_at),
    outcome: r.outcome as AttemptRecord["outcome"],
    reason: r.reason,
  };
}

export function providerToRow(p: ProviderRecord): Insertable<ProvidersTable> {
  return {
    id: p.id,
    capabilities: JSON.stringify(p.capabilities),
    first_seen_at: p.firstSeenAt,
    last_seen_at: p.lastSeenAt,
    online: p.online ? 1 : 0,
    completed: p.completed,
    failed: p.failed,
  };
}

export function rowToProvider(r: Selectable<ProvidersTable>): ProviderRecord {
  return {
    id: r.id,
    capabilities: json(r.capabilities),
    firstSeenAt: num(r.first_seen_at),
    lastSeenAt: num(r.last_seen_at),
    online: num(r.online) !== 0,
    completed: num(r.completed),
    failed: num(r.failed),
  };
}

export function rowToConsumer(r: Selectable<ConsumersTable>): ConsumerRecord {
  return { id: r.id, name: r.name, createdAt: num(r.created_at) };
}

export function rowToApiKey(r: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    hash: r.hash,
    consumerId: r.consumer_id,
    scopes: json(r.scopes),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}
