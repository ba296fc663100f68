// The per-second request budget of a real gateway: it belongs to a consumer however its key's
// header is written, and a request with no key or a made-up one spends its address's budget, so
// neither respelling a key nor inventing keys buys more requests.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork } from "../helpers/network.js";

const LIMIT = 5;

describe("rate limit", () => {
  const net = new TestNetwork();
  let apiKey: string;
  let other: string;

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", String(LIMIT)]);
    apiKey = (await net.consumer()).apiKey;
    other = (await net.consumer()).apiKey;
  }, 120_000);
  afterAll(() => net.stop());

  /** Statuses of `headers.length` requests sent at once to `path`, one per header. */
  const burst = async (path: string, headers: (string | undefined)[]) => {
    // the windows (one second, from each budget's first request) the test's earlier requests opened end
    await new Promise((r) => setTimeout(r, 1_100));
    const answers = await Promise.all(
      headers.map((h) => fetch(`${net.url}${path}`, { headers: h ? { authorization: h } : {} })),
    );
    return answers.map((r) => r.status);
  };
  const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

  it("counts one consumer's requests together however its key's header is written", async () => {
    const spellings = ["Bearer", "bearer", "BEARER", "bEaReR"].flatMap((scheme) =>
      [" ", "  ", "   "].map((gap) => `${scheme}${gap}${apiKey}`),
    );
    const statuses = await burst("/v1/account", spellings);
    expect(count(statuses, 200)).toBeLessThanOrEqual(LIMIT * 2); // a burst may straddle two windows
    expect(count(statuses, 429)).toBeGreaterThan(0);
    expect(count(statuses, 200) + count(statuses, 429)).toBe(spellings.length);
  });

  it("gives each consumer its own budget", async () => {
    const statuses = await burst("/v1/account", [
      ...Array.from({ length: 12 }, () => `Bearer ${apiKey}`),
      `Bearer ${other}`,
    ]);
    expect(count(statuses.slice(0, 12), 429)).toBeGreaterThan(0);
    expect(statuses[12]).toBe(200);
  });

  it("counts requests with made-up keys by their address, like requests with none", async () => {
    const junk = Array.from({ length: 12 }, () => `Bearer tsk_${randomBytes(16).toString("hex")}`);
    const statuses = await burst("/v1/account", junk);
    expect(count(statuses, 429)).toBeGreaterThan(0);
    expect(count(statuses, 401) + count(statuses, 429)).toBe(junk.length);
    // the public explorer, whose callers need no key: a made-up one does not escape the address's budget
    const explorer = await burst("/v1/explorer/overview", junk);
    expect(count(explorer, 429)).toBeGreaterThan(0);
  });
});
