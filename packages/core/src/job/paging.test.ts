import { describe, expect, it } from "vitest";
import { LIST_PAGE_OUTPUT_CHARS, pageCut } from "./paging.js";

describe("pageCut", () => {
  it("takes up to the limit of small jobs, and says whether the extra candidate was there", () => {
    expect(pageCut([10, 10, 10], 2)).toEqual({ take: 2, hasMore: true });
    expect(pageCut([10, 10], 2)).toEqual({ take: 2, hasMore: false });
    expect(pageCut([], 50)).toEqual({ take: 0, hasMore: false });
  });

  it("stops before the job that would take the page past its size, and says there is more", () => {
    expect(pageCut([40, 50, 10, 1], 10, 100)).toEqual({ take: 3, hasMore: true });
    expect(pageCut([40, 61, 1], 10, 100)).toEqual({ take: 1, hasMore: true });
    const big = 22_000_000; // a 16 MiB wasm output in base64
    expect(pageCut(Array(51).fill(big), 50)).toEqual({ take: 1, hasMore: true });
    expect(pageCut([big, 1_000, big], 50)).toEqual({ take: 2, hasMore: true });
    expect(pageCut([1, 2, 3], 50, LIST_PAGE_OUTPUT_CHARS)).toEqual({ take: 3, hasMore: false });
  });

  it("always shows the first job, however large, so paging moves on", () => {
    expect(pageCut([500], 1, 100)).toEqual({ take: 1, hasMore: false });
    expect(pageCut([500, 1], 50, 100)).toEqual({ take: 1, hasMore: true });
  });
});
