// A job as the gateway tracks it. Money fields are bigint nano-credits; times are epoch ms.
import type { Constraints, JobOutput, JobSpec, JobStatus, Units } from "@tessera/protocol";

export type JobClass = "interactive" | "batch";

export interface JobRecord {
  id: string;
  consumerId: string;
  spec: JobSpec;
  constraints: Constraints;
  jobClass: JobClass;
  status: JobStatus;
  /** number of leases handed out so far; the current lease is attempt `attempt` */
  attempt: number;
  maxAttempts: number;
  providerId: string | null;
  /** price agreed with the current provider, nc per standard unit */
  pricePerUnit: number | null;
  leaseExpiresAt: number | null;
  /** providers that held an earlier attempt, tried last on retry */
  triedProviders: string[];
  escrow: bigint;
  cost: bigint | null;
  units: Units | null;
  output: JobOutput | null;
  outputHash: string | null;
  signature: string | null;
  error: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deadlineAt: number | null;
}

/** One lease of a job to a provider, kept for the job's trail. */
export interface AttemptRecord {
  jobId: string;
  attempt: number;
  providerId: string;
  leasedAt: number;
  endedAt: number | null;
  outcome: "running" | "completed" | "failed" | "expired" | "released" | "cancelled" | "rejected";
  reason: string | null;
}
