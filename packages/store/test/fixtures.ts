// Records for store tests: a queued job, a provider, batch files and batches, and the ops the
// gateway commits.
import { escrowEvent, type JobRecord } from "@tessera/core";
import type { Capabilities } from "@tessera/protocol";
import type { BatchFileRecord, BatchRecord, ProviderRecord, WriteOp } from "../src/index.js";

export const MODEL_ID = "ab".repeat(32);

export function makeJob(id: string, overrides: Partial<JobRecord> = {}): JobRecord {
  const createdAt = overrides.createdAt ?? 1_700_000_000_000;
  return {
    id,
    consumerId: "alice",
    spec: {
      runtime: "llm",
      model: MODEL_ID,
      input: { messages: [{ role: "user", content: "Say hi — in 日本語, please 👋" }] },
      params: { temperature: 0.7, seed: 42, topP: 0.9, stop: ["\n\n"] },
      limits: { maxOutputTokens: 64 },
    },
    constraints: { regions: ["eu-west", "us-east"], maxPricePerUnit: 1000, minReputation: 0.25, deadlineMs: 30_000 },
    jobClass: "interactive",
    status: "queued",
    attempt: 0,
    maxAttempts: 3,
    providerId: null,
    pricePerUnit: null,
    leaseExpiresAt: null,
    triedProviders: [],
    escrow: 1_000n,
    cost: null,
    units: null,
    output: null,
    outputHash: null,
    signature: null,
    error: null,
    idempotencyKey: null,
    requestHash: "cd".repeat(32),
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    finishedAt: null,
    deadlineAt: createdAt + 30_000,
    ...overrides,
  };
}

/** What the gateway commits at submit: the job, its escrow and (optionally) its idempotency key. */
export function submitOp(job: JobRecord, key?: string): WriteOp {
  return {
    job,
    ledger: escrowEvent(job.id, job.consumerId, job.escrow, job.createdAt),
    idempotency: key === undefined ? undefined : { consumerId: job.consumerId, key, jobId: job.id },
  };
}

export const capabilities: Capabilities = {
  runtimes: ["llm", "wasm"],
  models: [{ id: MODEL_ID, name: "tiny-llama", parameters: 1_100_000_000, contextSize: 2048 }],
  pricePerUnit: 12,
  region: "eu-west",
  maxConcurrency: 4,
  throughput: 1234.5,
  software: "tessera-provider/0.1.0",
};

export function makeProvider(id: string, overrides: Partial<ProviderRecord> = {}): ProviderRecord {
  return {
    id,
    capabilities,
    firstSeenAt: 1_700_000_000_000,
    lastSeenAt: 1_700_000_005_000,
    online: true,
    completed: 7,
    failed: 1,
    ...overrides,
  };
}

export function makeBatchFile(id: string, consumerId: string, createdAt: number): BatchFileRecord {
  return {
    id,
    consumerId,
    purpose: "batch",
    filename: `${id}.jsonl`,
    bytes: 10,
    lines: 1,
    path: `/tmp/${id}`,
    createdAt,
  };
}

/** alice's chat batch, running, one of three lines done; every field set */
export function makeBatch(id: string, createdAt: number): BatchRecord {
  return {
    id,
    consumerId: "alice",
    endpoint: "/v1/chat/completions",
    inputFileId: "f1",
    completionWindow: "24h",
    status: "in_progress",
    outputFileId: `${id}-out`,
    errorFileId: `${id}-err`,
    createdAt,
    expiresAt: createdAt + 86_400_000,
    inProgressAt: createdAt,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
    total: 3,
    completed: 1,
    failed: 0,
    spent: 12_345n,
    metadata: { run: "nightly" },
    errors: null,
  };
}
