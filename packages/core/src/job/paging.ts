// How much of a job list one page holds. A page of `limit` jobs is also held to a size: a WASM
// job's output may be 16 MiB (21 MB of base64), and a page of fifty such jobs was one 490 MB JSON
// answer that blocked the gateway's event loop for 15 s (every provider's pings went unanswered and
// its connection dropped) and took it to 3 GB resident; a few more would have passed the longest
// string V8 can build.

/** The most output characters one page of `GET /v1/jobs` holds, beyond its first job. */
export const LIST_PAGE_OUTPUT_CHARS = 32 * 1024 * 1024;

/**
 * How many of a page's candidates to show, newest first, given each one's output size in
 * characters (`candidates` holds one more than `limit` when there is more). The first job is always
 * shown, whatever its size, so paging always moves on; later ones while the page stays within
 * `budget`. `hasMore` says that candidates were left out, by the limit or by size.
 */
export function pageCut(
  outputChars: readonly number[],
  limit: number,
  budget: number = LIST_PAGE_OUTPUT_CHARS,
): { take: number; hasMore: boolean } {
  let take = 0;
  let total = 0;
  while (take < outputChars.length && take < limit) {
    const next = outputChars[take] as number;
    if (take > 0 && total + next > budget) break;
    total += next;
    take++;
  }
  return { take, hasMore: outputChars.length > take };
}
