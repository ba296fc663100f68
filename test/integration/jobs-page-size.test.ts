// GET /v1/jobs holds a page to a size as well as to its limit (core pageCut). A WASM job's output
// may be 16 MiB, 21 MB of base64: a page of fifty of them was a 490 MB answer that blocked the
// gateway for 15 s (its providers' pings went unanswered and they dropped) and took it to 3 GB.
// Jobs are written straight into the store of a gateway started in this process.
import type { JobRecord } from "@tessera/core";
import type { GatewayHandle } from "@tessera/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayInProcess } from "../helpers/in-process.js";

const MODULE = "ab".repeat(32);

function completedJob(consumerId: string, i: number, dataChars: number): JobRecord {
  const at = 1_700_000_000_000 + i * 1_000;
  return {
    id: `job_${i.toString(16).padStart(28, "0")}`,
    consumerId,
    spec: { runtime: "wasm", module: MODULE, input: { data: "" }, limits: { timeoutMs: 1_000, maxMemoryMb: 64 } },
    constraints: {},
    jobClass: "batch",
    status: "completed",
    attempt: 1,
    maxAttempts: 3,
    providerId: "aa".repeat(32),
    pricePerUnit: 1,
    leaseExpiresAt: null,
    triedProviders: [],
    escrow: 10n,
    cost: 1n,
    units: { inputTokens: 0, outputTokens: 0, standardUnits: 1 },
    output: { data: "A".repeat(dataChars) },
    outputHash: "cd".repeat(32),
    signature: "ef".repeat(32),
    error: null,
    idempotencyKey: null,
    requestHash: "01".repeat(32),
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    finishedAt: at,
    deadlineAt: null,
  };
}

describe("job list page size", () => {
  let gw: GatewayHandle;
  let apiKey: string;

  beforeAll(async () => {
    ({ gw, apiKey } = await gatewayInProcess({}, { name: "lister", deposit: 1_000_000n }));
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("cuts a page of large outputs short, and paging still shows every job once, newest first", async () => {
    const account = (await (
      await fetch(`${gw.url}/v1/account`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as { id: string };
    const big = 12 * 1024 * 1024; // characters: two fit in a page's 32 Mi, a third does not
    const sizes = [100, big, big, 100, big, big, big, 100];
    const jobs = sizes.map((chars, i) => completedJob(account.id, i + 1, chars));
    await gw.store.commit(jobs.map((job) => ({ job })));
    const newestFirst = jobs.map((j) => j.id).reverse();

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const r = await fetch(`${gw.url}/v1/jobs?limit=50${cursor ? `&cursor=${cursor}` : ""}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const text = await r.text();
      expect(r.status).toBe(200);
      expect(text.length).toBeLessThan(40 * 1024 * 1024);
      const page = JSON.parse(text) as { data: { id: string }[]; hasMore: boolean; nextCursor: string | null };
      expect(page.data.length).toBeGreaterThan(0);
      seen.push(...page.data.map((j) => j.id));
      if (!page.hasMore) {
        expect(page.nextCursor).toBeNull();
        break;
      }
      expect(page.nextCursor).toBe(page.data.at(-1)?.id);
      cursor = page.nextCursor as string;
    }
    expect(seen).toEqual(newestFirst);

    // a limit still holds among small jobs, and a status filter pages the same way
    const small = await fetch(`${gw.url}/v1/jobs?limit=1&status=completed`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(await small.json()).toMatchObject({ data: [{ id: newestFirst[0] }], hasMore: true });
  }, 60_000);
});
