// Audits that wait for a verifier wait in the store, not in memory. An audit is drawn after a job
// settles whether or not a verifier is online; the ones nobody can take yet (no verifier of
// another operator for that model, all of them asked, or more audits in flight than the gateway
// keeps in memory) stay as 'pending' rows, and the gateway pages through them, oldest first, as
// verifiers come online. So a gateway without verifiers holds no memory per audited job, and
// audits undecided when a gateway stopped are taken up again by the next run.
import type { CastVerdict, JobRecord } from "@tessera/core";
import type { AuditCursor, Store } from "@tessera/store";

export interface ParkedAudit {
  id: string;
  kind: "sampled" | "canary";
  job: JobRecord;
  /** conclusive verdicts already cast (an inconclusive one asks the next verifier) */
  verdicts: CastVerdict[];
  /** everyone who gave a verdict: not asked again */
  asked: string[];
  /** everyone who gave a verdict, conclusive or not: one verdict per verifier and audit */
  answered: Set<string>;
}

export class ParkedAudits {
  private cursor: AuditCursor | undefined;
  /** a previous run may have left undecided audits, so the first look goes to the store */
  private mayHave = true;
  /** the pages returned so far have gone through every audit that was parked when this run began */
  private passed = false;
  /** counts audits parked: a pass that began before the latest one may have missed it */
  private parkedCount = 0;

  constructor(private readonly store: Store) {}

  /** An audit was left pending in the store. */
  parked(): void {
    this.mayHave = true;
    this.parkedCount++;
  }

  /** How many audits have been parked so far (compare two readings to know whether any was). */
  get version(): number {
    return this.parkedCount;
  }

  /** Whether the next page starts a new pass from the oldest audit. */
  get atStart(): boolean {
    return this.cursor === undefined;
  }

  /** Has one pass gone through all audits the store held at start (those a previous run left)? */
  get sweptOnce(): boolean {
    return this.passed;
  }

  /**
   * The next page of parked audits after the last one returned, wrapping around to the oldest,
   * skipping those in memory: a page of audits no verifier can take does not block the ones behind it.
   */
  async next(limit: number, inMemory: { has(id: string): boolean }): Promise<ParkedAudit[]> {
    if (!this.mayHave) this.passed = true;
    if (!this.mayHave || limit <= 0) return [];
    const from = this.cursor;
    const rows = await this.store.verification.pendingAudits(limit, from);
    const last = rows.at(-1);
    this.cursor = rows.length < limit || !last ? undefined : { createdAt: last.createdAt, id: last.id };
    if (this.cursor === undefined) this.passed = true;
    if (rows.length === 0 && from === undefined) this.mayHave = false;
    const waiting = rows.filter((row) => !inMemory.has(row.id));
    const jobs = new Map((await this.store.getJobs(waiting.map((r) => r.jobId))).map((j) => [j.id, j]));
    return waiting.flatMap((row) => {
      const job = jobs.get(row.jobId);
      if (!job) return [];
      return [
        {
          id: row.id,
          kind: row.kind,
          job,
          verdicts: row.verdicts
            .filter((v) => v.report.metrics.inconclusive !== 1)
            .map((v) => ({ verifierId: v.verifierId, pass: v.pass })),
          asked: row.verdicts.map((v) => v.verifierId),
          answered: new Set(row.verdicts.map((v) => v.verifierId)),
        },
      ];
    });
  }
}
