// Contract, part 8: text sorts and compares as UTF-8 bytes on every dialect, as SQLite's BINARY
// does: ids differing in case, punctuation, digits or beyond ASCII come out in one order, a cursor
// pages through them once each, and an id prefix finds exactly the ids that start with it.
// postgres.test.ts also runs it on a database whose own collation is ICU en-US.
import { depositEvent } from "@tessera/core";
import { expect, it } from "vitest";
import type { Harness } from "./contract.js";
import { audit } from "./contract-verification.js";
import { capabilities, makeJob, makeProvider } from "./fixtures.js";

/** ids a linguistic collation orders otherwise: case, '-' and '_' against letters and digits, é, U+FF01, U+1F600 */
const IDS = [
  "job-B",
  "job-a",
  "job_1",
  "job1",
  "job-a-b",
  "job-ab",
  "job-Ab",
  "job-é",
  "job-z",
  "job-\uff01",
  "job-😀",
];

const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const ascending = (ids: readonly string[]) => [...ids].sort(bytewise);
const descending = (ids: readonly string[]) => ascending(ids).reverse();

export function byteOrderContract(h: Harness): void {
  it("lists and pages jobs created at the same moment in byte order of id", async () => {
    await h.store.commit(IDS.map((id) => ({ job: makeJob(id, { createdAt: 1_000 }) })));
    const newestFirst = descending(IDS);
    expect((await h.store.listJobs({ limit: 100 })).map((j) => j.id)).toEqual(newestFirst);

    const paged: string[] = [];
    const explored: string[] = [];
    for (let before: string | undefined, again = true; again; ) {
      const page = await h.store.listJobs({ limit: 3, ...(before === undefined ? {} : { before }) });
      paged.push(...page.map((j) => j.id));
      before = page.at(-1)?.id;
      again = page.length > 0;
    }
    for (let before: string | undefined, again = true; again; ) {
      const page = await h.store.explorer.jobsPage({ limit: 3, ...(before === undefined ? {} : { before }) });
      explored.push(...page.map((j) => j.id));
      before = page.at(-1)?.id;
      again = page.length > 0;
    }
    expect(paged).toEqual(newestFirst);
    expect(explored).toEqual(newestFirst);
  });

  it("finds by prefix exactly the ids and accounts that start with it", async () => {
    await h.store.commit(IDS.map((id) => ({ job: makeJob(id, { createdAt: 1_000 }) })));
    const found = await h.store.explorer.jobsPage({ idPrefix: "job-a", limit: 100 });
    expect(found.map((j) => j.id)).toEqual(descending(IDS.filter((id) => id.startsWith("job-a"))));

    const consumers = ["bob", "Alice", "alice", "alice_x", "alice1", "alice-y", "ålice"];
    await h.store.commit(consumers.map((c) => ({ ledger: depositEvent(`dep-${c}`, c, 5n, 1) })));
    const names = consumers.map((c) => `consumer:${c}:available`);
    const page = await h.store.explorer.accountsPage({ prefix: "consumer:a", offset: 0, limit: 100 });
    expect(page.rows.map((r) => r.name)).toEqual(ascending(names.filter((n) => n.startsWith("consumer:a"))));
    expect(page.total).toBe(page.rows.length);
    expect([...(await h.store.balances()).keys()]).toEqual(ascending([...names, "external"]));
  });

  it("orders providers, regions and a cursor over pending audits in byte order", async () => {
    const regions = ["eu-west", "EU-west", "eu_west", "ap-south", "éu-west"];
    await h.store.commit(
      regions.map((region, i) => ({
        provider: makeProvider(`p-${IDS[i]}`, { capabilities: { ...capabilities, region } }),
      })),
    );
    const providers = regions.map((_, i) => `p-${IDS[i]}`);
    expect((await h.store.listProviders()).map((p) => p.id)).toEqual(ascending(providers));
    const byId = await h.store.explorer.providersPage({ limit: 100, offset: 0, sort: "id" });
    expect(byId.rows.map((p) => p.id)).toEqual(ascending(providers));
    expect((await h.store.explorer.regions()).map((r) => r.region)).toEqual(ascending(regions));

    const v = h.store.verification;
    for (const id of IDS) await v.putAudit(audit(id, `j-${id}`, { createdAt: 100 }));
    const paged: string[] = [];
    for (let page = await v.pendingAudits(4); page.length > 0; ) {
      paged.push(...page.map((a) => a.id));
      const last = page.at(-1);
      page = last ? await v.pendingAudits(4, { createdAt: last.createdAt, id: last.id }) : [];
    }
    expect(paged).toEqual(ascending(IDS));
  });
}
