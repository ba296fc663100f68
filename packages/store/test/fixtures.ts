// Records for store tests: a queued job, a provider, and the ops the gateway commits.
import { escrowEvent, type JobRecord } from "@tessera/core";
import type { Capabilities } from "@tessera/protocol";
import type { ProviderRecord, WriteOp } from "../src/index.js";

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
