// A provider's history as its page charts it: a bucket for every period of the window asked for.
import type { HistoryBucket } from "@tessera/store";

/**
 * The store answers only the periods a provider was active in. Charted as they are, one active
 * period drew a single point on an axis spanning years, and two drew a straight line across the
 * idle hours between them as if work had gone on; each missing period is a bucket of zeros here.
 */
export function denseHistory(buckets: HistoryBucket[], from: number, to: number, bucketMs: number): HistoryBucket[] {
  const byStart = new Map(buckets.map((b) => [b.at, b]));
  const out: HistoryBucket[] = [];
  for (let at = Math.floor(from / bucketMs) * bucketMs; at <= to; at += bucketMs)
    out.push(byStart.get(at) ?? { at, completed: 0, failed: 0, earned: 0n });
  return out;
}
