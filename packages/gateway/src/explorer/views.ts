// JSON shapes of the explorer API. Money is a decimal string of nano-credits, as everywhere else.
import type { JobRecord } from "@tessera/core";
import type { AuditRow, JobSummary, PostingRow, SlashRow, VerdictRow } from "@tessera/store";
import { accountAs, consumerAs, PUBLIC, type Viewer } from "./privacy.js";

/** `consumer` is null unless `viewer` may see it (privacy.ts). */
export function jobSummaryView(j: JobSummary, viewer: Viewer) {
  return {
    id: j.id,
    status: j.status,
    runtime: j.runtime,
    target: j.target,
    consumer: consumerAs(viewer, j.consumerId),
    provider: j.providerId,
    attempts: j.attempt,
    cost: j.cost?.toString() ?? null,
    standardUnits: j.standardUnits,
    createdAt: j.createdAt,
    finishedAt: j.finishedAt,
  };
}

/** The same summary from a live record, for the SSE feed (public: it carries no key). */
export function liveJobView(j: JobRecord) {
  return jobSummaryView(
    {
      id: j.id,
      status: j.status,
      runtime: j.spec.runtime,
      target: j.spec.runtime === "llm" ? j.spec.model : j.spec.module,
      consumerId: j.consumerId,
      providerId: j.providerId,
      attempt: j.attempt,
      cost: j.cost,
      standardUnits: j.units?.standardUnits ?? null,
      createdAt: j.createdAt,
      finishedAt: j.finishedAt,
    },
    PUBLIC,
  );
}

/** Another consumer's accounts appear as `consumer:*:…`. */
export function postingView(p: PostingRow, viewer: Viewer) {
  return { ...p, from: accountAs(viewer, p.from), to: accountAs(viewer, p.to), amount: p.amount.toString() };
}

/** A job's full record for its explorer page; the input and output only for its owner. */
export function jobDetailView(j: JobRecord, owner: boolean, viewer: Viewer) {
  const { input: _input, ...specPublic } = j.spec as JobRecord["spec"] & { input?: unknown };
  return {
    id: j.id,
    status: j.status,
    runtime: j.spec.runtime,
    target: j.spec.runtime === "llm" ? j.spec.model : j.spec.module,
    class: j.jobClass,
    consumer: consumerAs(viewer, j.consumerId),
    provider: j.providerId,
    spec: owner ? j.spec : specPublic,
    constraints: j.constraints,
    attempts: j.attempt,
    maxAttempts: j.maxAttempts,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    deadlineAt: j.deadlineAt,
    escrow: j.escrow.toString(),
    cost: j.cost?.toString() ?? null,
    pricePerUnit: j.pricePerUnit,
    units: j.units,
    output: owner ? j.output : null,
    outputHash: j.outputHash,
    signature: j.signature,
    error: j.error,
  };
}

/**
 * One audit of a job with its signed verdicts: who checked, the result, the verifier's signature
 * over { domain: "tessera.verdict.v1", auditId, jobId, outputHash, pass } and what it measured.
 */
export function auditView(a: AuditRow & { verdicts: VerdictRow[] }) {
  return {
    id: a.id,
    kind: a.kind,
    status: a.status,
    createdAt: a.createdAt,
    decidedAt: a.decidedAt,
    verdicts: a.verdicts.map((v) => ({
      verifier: v.verifierId,
      pass: v.pass,
      signature: v.signature,
      checks: v.report.checks,
      reasons: v.report.reasons,
      /** the margins the verifier measured (e.g. maxGreedyGap, maxLogprobDiff, tokensChecked) */
      metrics: v.report.metrics,
      elapsedMs: v.elapsedMs,
      at: v.at,
    })),
  };
}

export function slashView(s: SlashRow) {
  return {
    jobId: s.jobId,
    auditId: s.auditId,
    kind: s.kind,
    at: s.at,
    amount: s.amount.toString(),
    refunded: s.refunded.toString(),
    rewarded: s.rewarded.toString(),
    burned: s.burned.toString(),
    reporters: s.reporters,
  };
}

/** passed / decided, null when none was decided */
export function passRate(c: { passed: number; failed: number } | undefined): number | null {
  if (!c || c.passed + c.failed === 0) return null;
  return c.passed / (c.passed + c.failed);
}
