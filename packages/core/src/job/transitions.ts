// The job state machine: queued -> running -> completed | failed | cancelled, and
// running -> queued when a lease is lost and attempts remain. Each transition returns the
// new record plus the ledger event and attempt record to persist with it, in one commit.
import type { JobOutput, Units } from "@tessera/protocol";
import { type LedgerEvent, refundEvent, settleEvent } from "../ledger/postings.js";
import { billedCost } from "../metering/cost.js";
import { fuelLimit, outOfFuelMessage } from "../metering/units.js";
import type { AttemptRecord, JobRecord } from "./types.js";

export interface Transition {
  job: JobRecord;
  ledger?: LedgerEvent;
  attempt?: AttemptRecord;
}

export class TransitionError extends Error {}

function mustBe(job: JobRecord, ...statuses: JobRecord["status"][]): void {
  if (!statuses.includes(job.status))
    throw new TransitionError(`job ${job.id} is ${job.status}, expected ${statuses.join(" or ")}`);
}

export function isTerminal(job: Pick<JobRecord, "status">): boolean {
  return job.status === "completed" || job.status === "failed" || job.status === "cancelled";
}

export function lease(
  job: JobRecord,
  providerId: string,
  pricePerUnit: number,
  now: number,
  leaseMs: number,
): Transition {
  mustBe(job, "queued");
  const attempt = job.attempt + 1;
  return {
    job: {
      ...job,
      status: "running",
      attempt,
      providerId,
      pricePerUnit,
      leaseExpiresAt: now + leaseMs,
      startedAt: job.startedAt ?? now,
      updatedAt: now,
    },
    attempt: { jobId: job.id, attempt, providerId, leasedAt: now, endedAt: null, outcome: "running", reason: null },
  };
}

export function renewLease(job: JobRecord, now: number, leaseMs: number): JobRecord {
  mustBe(job, "running");
  return { ...job, leaseExpiresAt: now + leaseMs, updatedAt: now };
}

function endAttempt(
  job: JobRecord,
  now: number,
  outcome: AttemptRecord["outcome"],
  reason: string | null,
): AttemptRecord {
  return {
    jobId: job.id,
    attempt: job.attempt,
    providerId: job.providerId ?? "",
    leasedAt: job.startedAt ?? now,
    endedAt: now,
    outcome,
    reason,
  };
}

function fail(job: JobRecord, reason: string, now: number, outcome: AttemptRecord["outcome"] | null): Transition {
  return {
    job: {
      ...job,
      status: "failed",
      error: reason,
      leaseExpiresAt: null,
      updatedAt: now,
      finishedAt: now,
    },
    ledger: refundEvent(job.id, job.consumerId, job.escrow, now),
    attempt: outcome && job.providerId ? endAttempt(job, now, outcome, reason) : undefined,
  };
}

/**
 * The current lease ended without a result (expired, provider gone, provider gave it back,
 * provider reported a retryable failure). Requeue elsewhere while attempts remain.
 */
export function loseLease(
  job: JobRecord,
  outcome: "expired" | "failed" | "released",
  reason: string,
  now: number,
  /** takenBack: the gateway took the lease back (preemption): the node did nothing, so it is not
   * counted as having tried the job, and may later give it back once for free as any other node */
  opts: { countsAsAttempt?: boolean; takenBack?: boolean } = {},
): Transition {
  mustBe(job, "running");
  const counts = opts.countsAsAttempt ?? outcome !== "released";
  const usedUp = counts && job.attempt >= job.maxAttempts;
  if (usedUp) return fail(job, `failed after ${job.attempt} attempts; last: ${reason}`, now, outcome);
  const tried =
    job.providerId && !opts.takenBack && !job.triedProviders.includes(job.providerId)
      ? [...job.triedProviders, job.providerId]
      : job.triedProviders;
  return {
    job: {
      ...job,
      status: "queued",
      // a released lease (preemption, drain) does not use up one of the job's attempts
      maxAttempts: counts ? job.maxAttempts : job.maxAttempts + 1,
      providerId: null,
      pricePerUnit: null,
      leaseExpiresAt: null,
      triedProviders: tried,
      updatedAt: now,
    },
    attempt: endAttempt(job, now, outcome, reason),
  };
}

/** The job itself is at fault (bad input, trap): no retry, full refund. */
export function failPermanently(job: JobRecord, reason: string, now: number): Transition {
  mustBe(job, "queued", "running");
  return fail(job, reason, now, job.status === "running" ? "failed" : null);
}

/** How a job failed for good because of itself is told apart from one that ran out of attempts. */
export const JOB_AT_FAULT = "the job itself is at fault: ";

/**
 * The provider holding the lease says the job itself is at fault (bad input, a trap). One node's
 * word would let any node fail any consumer's job for good at no cost to itself, so the claim
 * stands only once a second node makes it too, or when no other node could try the job; until
 * then the job is requeued like a failed lease (an attempt used). The claimant is not penalised
 * here, since it may be right; the engine counts the claim against it once another node
 * completes the job.
 */
export function claimJobFault(job: JobRecord, reason: string, now: number, opts: { confirmed: boolean }): Transition {
  mustBe(job, "running");
  const claim = `${JOB_AT_FAULT}${reason}`;
  return opts.confirmed ? failPermanently(job, claim, now) : loseLease(job, "failed", claim, now);
}

/**
 * Whether a provider may give this lease back without using up an attempt. Honest nodes give back
 * only interruptible (batch) leases, when paused or draining; and a job a node already held once
 * is not given back to it free again, so a node releasing in a loop burns the job's attempts
 * instead of writing attempts (and holding a consumer's job) forever.
 */
export function releaseIsFree(job: JobRecord): boolean {
  return job.jobClass === "batch" && job.providerId !== null && !job.triedProviders.includes(job.providerId);
}

export interface ResultInput {
  output: JobOutput;
  outputHash: string;
  units: Units;
  signature: string;
  feeBps: number;
  now: number;
}

/** What a lease's work is billed, and the ledger event that pays it out of the escrow. */
function billWork(
  job: JobRecord,
  lease: { providerId: string; pricePerUnit: number },
  units: Units,
  feeBps: number,
  at: number,
): { cost: bigint; ledger: LedgerEvent } {
  const cost = billedCost(units.standardUnits, lease.pricePerUnit, job.escrow);
  const ledger = settleEvent({
    jobId: job.id,
    consumerId: job.consumerId,
    providerId: lease.providerId,
    escrowed: job.escrow,
    cost,
    feeBps,
    at,
  });
  return { cost, ledger };
}

/** Whether a result says its WASM job ran out of fuel (see complete). */
export function ranOutOfFuel(output: JobOutput | null | undefined): boolean {
  return output !== null && output !== undefined && "outOfFuel" in output && output.outOfFuel === true;
}

/** The trap a result says its WASM job stopped at, if any (see complete). */
export function trapOf(output: JobOutput | null | undefined): string | undefined {
  return output !== null && output !== undefined && "trap" in output ? output.trap : undefined;
}

/** Whether a result says its WASM job stopped at its own fault, out of fuel or at a trap: no output, billed all the same. */
export function stoppedAtFault(output: JobOutput | null | undefined): boolean {
  return ranOutOfFuel(output) || trapOf(output) !== undefined;
}

/**
 * Whether a job ended on a signed result, billed: completed, or failed as a WASM job that stopped at
 * its own fault. Such a result is audited, and judged as a canary, like any other.
 */
export function endedOnResult(job: Pick<JobRecord, "status" | "output">): boolean {
  return job.status === "completed" || (job.status === "failed" && stoppedAtFault(job.output));
}

/**
 * A signed result came in: its work is billed out of the escrow and the job ends. A WASM job that
 * ran out of fuel, or trapped, ends `failed`, at its own fault, and is billed the fuel it burned, as
 * gas is: the node did that work, the same on every node, and the consumer set the limit (all of it
 * when it ran out). Its signed result is kept and audited like any other.
 */
export function complete(job: JobRecord, r: ResultInput): Transition {
  mustBe(job, "running");
  const { providerId, pricePerUnit } = job;
  if (providerId === null || pricePerUnit === null) throw new TransitionError(`job ${job.id} has no lease`);
  const { cost, ledger } = billWork(job, { providerId, pricePerUnit }, r.units, r.feeBps, r.now);
  const fault =
    job.spec.runtime !== "wasm"
      ? undefined
      : ranOutOfFuel(r.output)
        ? outOfFuelMessage(fuelLimit(job.spec.limits))
        : trapOf(r.output);
  const error = fault === undefined ? undefined : `${JOB_AT_FAULT}${fault}`;
  return {
    job: {
      ...job,
      status: error ? "failed" : "completed",
      ...(error ? { error } : {}),
      output: r.output,
      outputHash: r.outputHash,
      units: r.units,
      signature: r.signature,
      cost,
      leaseExpiresAt: null,
      updatedAt: r.now,
      finishedAt: r.now,
    },
    ledger,
    attempt: endAttempt(job, r.now, "completed", null),
  };
}

/**
 * Cancels a job. A running job whose output a client was already streamed is billed for what its
 * lease streamed (`streamed`, from core's streamedUnits): the consumer has that text and the node
 * did that work, so stopping a stream near its end must not make the answer free. The rest of the
 * escrow, or all of it, goes back.
 */
export function cancel(
  job: JobRecord,
  now: number,
  reason = "cancelled by the consumer",
  streamed?: { units: Units; feeBps: number },
): Transition {
  mustBe(job, "queued", "running");
  const { providerId, pricePerUnit } = job;
  if (
    streamed === undefined ||
    streamed.units.standardUnits <= 0 ||
    job.status !== "running" ||
    providerId === null ||
    pricePerUnit === null
  ) {
    const t = fail(job, reason, now, job.status === "running" ? "cancelled" : null);
    return { ...t, job: { ...t.job, status: "cancelled" } };
  }
  const { cost, ledger } = billWork(job, { providerId, pricePerUnit }, streamed.units, streamed.feeBps, now);
  return {
    job: {
      ...job,
      status: "cancelled",
      error: reason,
      units: streamed.units,
      cost,
      leaseExpiresAt: null,
      updatedAt: now,
      finishedAt: now,
    },
    ledger,
    attempt: endAttempt(job, now, "cancelled", reason),
  };
}

/** How a job failed because the nodes online came to bill more than its escrow is told apart. */
export const OUTPRICED = "outpriced: ";

/**
 * A queued job the market moved past (core's escrowShortfall): failed and refunded in full, as the
 * consumer agreed to no more than its escrow and a new submit is escrowed at the prices of now.
 */
export function outprice(job: JobRecord, need: bigint, now: number): Transition {
  mustBe(job, "queued");
  const reason = `${OUTPRICED}its escrow of ${job.escrow} nc, taken for the nodes online at its submit, covers none of the nodes online now that could run it (the cheapest needs ${need} nc); submit it again to be escrowed at their prices`;
  return fail(job, reason, now, null);
}

/** A queued job whose deadline passed before any provider could take it. */
export function expireInQueue(job: JobRecord, now: number): Transition {
  mustBe(job, "queued");
  return fail(job, "no provider with capacity could take the job before its deadline", now, null);
}
