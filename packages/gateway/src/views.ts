// The public JSON shapes of jobs, accounts and providers. Money is a decimal string of
// nano-credits so that no client loses precision.
import type { AttemptRecord, JobRecord } from "@tessera/core";

export function jobView(job: JobRecord, attempts?: AttemptRecord[]) {
  return {
    id: job.id,
    object: "job" as const,
    status: job.status,
    runtime: job.spec.runtime,
    ...(job.spec.runtime === "llm" ? { model: job.spec.model } : { module: job.spec.module }),
    class: job.jobClass,
    spec: job.spec,
    constraints: job.constraints,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    deadlineAt: job.deadlineAt,
    attempts: job.attempt,
    maxAttempts: job.maxAttempts,
    provider: job.providerId,
    pricePerUnit: job.pricePerUnit,
    escrow: job.escrow.toString(),
    cost: job.cost?.toString() ?? null,
    units: job.units,
    output: job.output,
    outputHash: job.outputHash,
    signature: job.signature,
    error: job.error,
    idempotencyKey: job.idempotencyKey,
    ...(attempts ? { trail: attempts } : {}),
  };
}
