// Audits that no verifier can take yet wait in a real SQLite store, not in the gateway's memory,
// and are taken up when a verifier comes online, by this run or by the next one.
import type { JobRecord } from "@tessera/core";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { auditsSent, type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

let store: Store;
let writer: GroupWriter;

beforeEach(async () => {
  store = await openStore(":memory:");
  writer = new GroupWriter(store);
});

afterEach(async () => {
  await store.close();
});

const job = (id: string, providerId: string) => testJob(id, providerId, { jobClass: "batch", cost: 0n });

/** A coordinator that audits every result, over the given (changeable) sessions, records loaded. */
async function coordinator(nodes: TestNode[]): Promise<VerificationCoordinator> {
  const c = new VerificationCoordinator({
    store,
    writer,
    sessions: () => nodes.map((n) => n.session),
    config: VerificationConfigSchema.parse({
      policy: { newRate: 1, floorRate: 1, afterFailureRate: 1 },
      passRecheckRate: 0,
    }),
    log: pino({ level: "silent" }),
  });
  await c.restoreRecords();
  return c;
}

async function settled(c: VerificationCoordinator, jobs: JobRecord[]): Promise<void> {
  await store.commit(jobs.map((j) => ({ job: j })));
  for (const j of jobs) c.onSettled(j);
  await vi.waitFor(async () => expect(await store.verification.pendingAudits(10_000)).toHaveLength(jobs.length));
}

const answer = (c: VerificationCoordinator, n: TestNode, pass: boolean) => {
  const m = auditsSent(n).at(-1);
  if (!m) throw new Error("no audit was sent");
  return c.onVerdict(n.session, verdictOf(n, m.auditId, m.jobId, pass));
};

describe("audits waiting for a verifier", () => {
  it("wait in the store while no verifier is online, and go to one when it connects", async () => {
    const provider = testNode("op-p", false);
    const nodes = [provider];
    const c = await coordinator(nodes);
    await settled(c, [job("job_1", provider.session.id)]);
    await vi.waitFor(() => expect(c.pendingAudits()).toBe(0));

    const verifier = testNode("op-v", true);
    nodes.push(verifier);
    await c.resumeParked();
    expect(auditsSent(verifier).map((m) => m.jobId)).toEqual(["job_1"]);
    expect(c.pendingAudits()).toBe(1);
    await answer(c, verifier, true);
    expect(c.pendingAudits()).toBe(0);
    expect(await store.verification.pendingAudits(10)).toEqual([]);
    expect((await store.verification.auditsOfJob("job_1"))[0]?.status).toBe("passed");
  });

  it("are read again only once an audit is parked or the verifiers online change, not on every tick", async () => {
    const provider = testNode("op-p", false);
    // a verifier of the provider's own operator may not judge its work
    const own = testNode("op-p", true);
    const nodes = [provider, own];
    const c = await coordinator(nodes);
    await settled(c, [job("job_1", provider.session.id), job("job_2", provider.session.id)]);
    await vi.waitFor(() => expect(c.pendingAudits()).toBe(0));
    const reads = vi.spyOn(store, "getJobs");
    for (let tick = 0; tick < 10; tick++) await c.resumeParked();
    // one pass through both (jobs, outputs and all), then nothing while nothing changes
    expect(reads).toHaveBeenCalledTimes(1);
    expect(auditsSent(own)).toEqual([]);

    // another audit parked: a new pass, which takes nothing up either
    const third = job("job_3", provider.session.id);
    await store.commit([{ job: third }]);
    c.onSettled(third);
    await vi.waitFor(async () => expect(await store.verification.pendingAudits(10)).toHaveLength(3));
    for (let tick = 0; tick < 10; tick++) await c.resumeParked();
    expect(reads.mock.calls.length).toBeLessThanOrEqual(3);
    const before = reads.mock.calls.length;

    // a verifier that may judge comes online: the audits go to it
    const other = testNode("op-v", true);
    nodes.push(other);
    await c.resumeParked();
    expect(reads.mock.calls.length).toBe(before + 1);
    expect(
      auditsSent(other)
        .map((m) => m.jobId)
        .sort(),
    ).toEqual(["job_1", "job_2", "job_3"]);
  });

  it("an audit half decided when the gateway stopped is finished by the next run with its verdicts", async () => {
    const provider = testNode("op-p", false);
    const first = testNode("op-1", true);
    const c1 = await coordinator([provider, first]);
    await settled(c1, [job("job_1", provider.session.id)]);
    await vi.waitFor(() => expect(auditsSent(first)).toHaveLength(1));
    // one verdict against: a second verifier must judge, and none is online, so the audit parks
    await answer(c1, first, false);
    expect(c1.pendingAudits()).toBe(0);
    const [row] = await store.verification.pendingAudits(10);
    expect(row?.verdicts.map((v) => v.pass)).toEqual([false]);

    // the next run: the first verifier has judged already and is not asked again
    const second = testNode("op-2", true);
    const c2 = await coordinator([provider, first, second]);
    await c2.resumeParked();
    expect(auditsSent(first)).toHaveLength(1);
    expect(auditsSent(second).map((m) => m.auditId)).toEqual([row?.id]);
    await answer(c2, second, false);
    expect((await store.verification.auditsOfJob("job_1"))[0]?.status).toBe("slashed");
    expect(c2.view(provider.session.id)).toMatchObject({ auditsFailed: 1, excluded: true });
  });

  it("keeps at most 256 audits in memory; the rest wait in the store and follow as verdicts come", async () => {
    const provider = testNode("op-p", false);
    const verifier = testNode("op-v", true);
    const c = await coordinator([provider, verifier]);
    const jobs = Array.from({ length: 300 }, (_, i) => job(`job_${i}`, provider.session.id));
    await settled(c, jobs);
    await vi.waitFor(() => expect(auditsSent(verifier)).toHaveLength(256));
    expect(c.pendingAudits()).toBe(256);
    for (const m of auditsSent(verifier))
      await c.onVerdict(verifier.session, verdictOf(verifier, m.auditId, m.jobId, true));
    expect(c.pendingAudits()).toBe(0);
    await c.resumeParked();
    expect(auditsSent(verifier)).toHaveLength(300);
    expect(new Set(auditsSent(verifier).map((m) => m.jobId)).size).toBe(300);
  });
});
