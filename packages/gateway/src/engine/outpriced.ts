// Queued LLM jobs the market moved past: every node online that could run one bills more than the
// escrow taken for the nodes online at its submit (the one it was sized for left, dearer ones
// came). Such a job would wait out its deadline (a day for a native job) with its money held;
// once that has lasted OUTPRICED_GRACE_MS, time for a node to reconnect, it is failed and
// refunded instead (core's outprice).
import { escrowShortfall, type JobRecord, type ProviderView } from "@tessera/core";

export const OUTPRICED_GRACE_MS = 30_000;
const CHECK_EVERY_MS = 1_000;

export class Outpriced {
  /** job id → when it was first seen outpriced */
  private readonly since = new Map<string, number>();
  private checkedAt = Number.NEGATIVE_INFINITY;

  /** The jobs outpriced for the whole grace, with what the cheapest node needs; looks at most once a second. */
  due(queued: Iterable<JobRecord>, views: () => ProviderView[], now: number): { job: JobRecord; need: bigint }[] {
    if (now - this.checkedAt < CHECK_EVERY_MS) return [];
    this.checkedAt = now;
    const nodes = views();
    const seen = new Set<string>();
    const due: { job: JobRecord; need: bigint }[] = [];
    for (const job of queued) {
      const need = escrowShortfall(job, nodes);
      if (need === undefined) continue;
      seen.add(job.id);
      const since = this.since.get(job.id) ?? now;
      this.since.set(job.id, since);
      if (now - since >= OUTPRICED_GRACE_MS) due.push({ job, need });
    }
    for (const id of this.since.keys()) if (!seen.has(id)) this.since.delete(id);
    return due;
  }
}
