// Contract, part 3: verification records and the explorer's reads over them — audits with their
// verdicts, outcomes in a window, counts per provider, slashes from the ledger, stake per provider.
import { slashEvent, stakeAccounts, stakeDepositEvent, unbondEvent, verifierSlashEvent } from "@tessera/core";
import { expect, it } from "vitest";
import type { AuditRow, VerdictRow } from "../src/index.js";
import type { Harness } from "./contract.js";
import { makeJob, makeProvider } from "./fixtures.js";

const P1 = "p1";
const P2 = "p2";
const V1 = "v1";
const V2 = "v2";

export function audit(id: string, jobId: string, overrides: Partial<AuditRow> = {}): AuditRow {
  return {
    id,
    jobId,
    providerId: P1,
    status: "pending",
    kind: "sampled",
    createdAt: 100,
    decidedAt: null,
    ...overrides,
  };
}

export function verdict(auditId: string, jobId: string, verifierId: string, pass: boolean, at: number): VerdictRow {
  return {
    auditId,
    verifierId,
    jobId,
    pass,
    report: {
      pass,
      reasons: pass ? [] : ["token 3 is not the greedy choice"],
      checks: ["greedy", "metering"],
      metrics: { tokensChecked: 12, maxGreedyGap: pass ? 0.25 : 4.5 },
    },
    signature: `sig-${verifierId}`,
    elapsedMs: 42.7,
    at,
  };
}

export function verificationContract(h: Harness): void {
  it("keeps a job's audits with their signed verdicts; a decision updates status and time only", async () => {
    await h.store.verification.putAudit(audit("a1", "j1"));
    await h.store.verification.putVerdict(verdict("a1", "j1", V1, false, 150));
    await h.store.verification.putVerdict(verdict("a1", "j1", V2, false, 160));
    // a replayed verdict changes nothing
    await h.store.verification.putVerdict({ ...verdict("a1", "j1", V1, true, 999), signature: "other" });
    await h.store.verification.putAudit(audit("a1", "j1", { status: "slashed", createdAt: 170, decidedAt: 170 }));
    await h.store.verification.putAudit(audit("a2", "j2"));
    const [a, ...rest] = await h.store.verification.auditsOfJob("j1");
    expect(rest).toEqual([]);
    expect(a).toEqual({
      ...audit("a1", "j1", { status: "slashed", decidedAt: 170 }),
      verdicts: [verdict("a1", "j1", V1, false, 150), verdict("a1", "j1", V2, false, 160)].map((v) => ({
        ...v,
        elapsedMs: 43,
      })),
    });
    expect(await h.store.verification.auditsOfJob("none")).toEqual([]);
  });

  it("keeps open canaries until they are judged; a repeated put changes nothing", async () => {
    const v = h.store.verification;
    expect(await v.openCanaries()).toEqual([]);
    await v.putOpenCanary({ jobId: "job_b", outputHash: "h2", createdAt: 20 });
    await v.putOpenCanary({ jobId: "job_a", outputHash: "h1", createdAt: 10 });
    await v.putOpenCanary({ jobId: "job_a", outputHash: "other", createdAt: 99 });
    expect(await v.openCanaries()).toEqual([
      { jobId: "job_a", outputHash: "h1", createdAt: 10 },
      { jobId: "job_b", outputHash: "h2", createdAt: 20 },
    ]);
    await v.deleteOpenCanary("job_a");
    await v.deleteOpenCanary("job_none");
    expect(await v.openCanaries()).toEqual([{ jobId: "job_b", outputHash: "h2", createdAt: 20 }]);
  });

  it("keeps the first unbonding of an id; releasing one takes it out of the due and open lists", async () => {
    const v = h.store.verification;
    const first = { id: "u1", providerId: P1, amount: 400n, releaseAt: 1_000, released: false };
    expect(await v.addUnbonding(first)).toEqual(first);
    expect(await v.addUnbonding({ ...first, amount: 9n, releaseAt: 5 })).toEqual(first);
    await v.addUnbonding({ id: "u2", providerId: P1, amount: 100n, releaseAt: 2_000, released: false });
    expect((await v.dueUnbondings(1_500)).map((u) => u.id)).toEqual(["u1"]);
    expect(await v.pendingUnbonding(P1)).toBe(500n);
    await v.markUnbondingReleased("u1");
    expect(await v.dueUnbondings(1_500)).toEqual([]);
    expect(await v.openUnbondings(P1)).toEqual([{ id: "u2", amount: 100n, releaseAt: 2_000 }]);
    expect(await v.pendingUnbonding(P1)).toBe(100n);
  });

  it("pages through undecided audits with their verdicts, oldest first, after a cursor", async () => {
    const v = h.store.verification;
    await v.putAudit(audit("a3", "j3", { createdAt: 300 }));
    await v.putAudit(audit("a1", "j1", { createdAt: 100 }));
    await v.putAudit(audit("a2b", "j2", { createdAt: 200 }));
    await v.putAudit(audit("a2a", "j2", { createdAt: 200 }));
    await v.putAudit(audit("d", "j4", { createdAt: 50, status: "passed", decidedAt: 60 }));
    await v.putVerdict(verdict("a2a", "j2", V1, false, 250));
    await v.putVerdict(verdict("a1", "j1", V2, true, 150));
    const ids = (rows: AuditRow[]) => rows.map((r) => r.id);
    const first = await v.pendingAudits(2);
    expect(ids(first)).toEqual(["a1", "a2a"]);
    expect(first[1]?.verdicts.map((x) => [x.verifierId, x.pass])).toEqual([[V1, false]]);
    const next = await v.pendingAudits(2, { createdAt: 200, id: "a2a" });
    expect(ids(next)).toEqual(["a2b", "a3"]);
    expect(next[0]?.verdicts).toEqual([]);
    expect(await v.pendingAudits(2, { createdAt: 300, id: "a3" })).toEqual([]);
  });

  it("counts audit outcomes decided in a window, only of results a provider ran", async () => {
    await h.store.commit(
      ["j1", "j2", "j3", "j4"].map((id) => ({ job: makeJob(id, { status: "completed", providerId: P1 }) })),
    );
    const v = h.store.verification;
    await v.putAudit(audit("a1", "j1", { status: "passed", decidedAt: 1_000 }));
    await v.putAudit(audit("a2", "j2", { status: "passed", decidedAt: 2_000 }));
    await v.putAudit(audit("a3", "j3", { status: "slashed", decidedAt: 2_500 }));
    await v.putAudit(audit("a4", "j4")); // pending: not decided
    // a canary for a verifier: a known-wrong result "by" a throw-away identity, of no stored job
    await v.putAudit(
      audit("a5", "ghost-job", { providerId: "ghost", status: "slashed", kind: "canary", decidedAt: 2_100 }),
    );
    expect(await v.auditOutcomes(0, 10_000)).toEqual({ passed: 2, failed: 1 });
    // (from, to]: a decision at exactly `from` belongs to the window before
    expect(await v.auditOutcomes(1_000, 2_000)).toEqual({ passed: 1, failed: 0 });
    expect(await v.auditOutcomes(2_000, 3_000)).toEqual({ passed: 0, failed: 1 });
    expect(await v.auditOutcomes(3_000, 4_000)).toEqual({ passed: 0, failed: 0 });
  });

  it("counts passed, slashed and pending audits per provider for the providers asked", async () => {
    const v = h.store.verification;
    await v.putAudit(audit("a1", "j1", { status: "passed", decidedAt: 1 }));
    await v.putAudit(audit("a2", "j2", { status: "passed", decidedAt: 2 }));
    await v.putAudit(audit("a3", "j3", { status: "slashed", decidedAt: 3 }));
    await v.putAudit(audit("a4", "j4"));
    await v.putAudit(audit("b1", "k1", { providerId: P2, status: "passed", decidedAt: 4, kind: "canary" }));
    await v.putAudit(audit("c1", "m1", { providerId: "p3", status: "slashed", decidedAt: 5 }));
    const counts = await v.auditCounts([P1, P2, "p-none"]);
    expect(Object.fromEntries(counts)).toEqual({
      [P1]: { passed: 2, failed: 1, pending: 1 },
      [P2]: { passed: 1, failed: 0, pending: 0 },
    });
    expect((await v.auditCounts([])).size).toBe(0);
  });

  it("reads a provider's slashes from the ledger's slash postings, with reporters and the audit", async () => {
    await h.store.commit([
      { ledger: stakeDepositEvent("stake:p1", P1, 10_000n, 10) },
      { ledger: stakeDepositEvent("stake:p2", P2, 500n, 10) },
      { ledger: unbondEvent("unbond:p1", P1, 4_000n, 20) },
    ]);
    await h.store.verification.addUnbonding({
      id: "u1",
      providerId: P1,
      amount: 4_000n,
      releaseAt: 9_000,
      released: false,
    });
    await h.store.verification.addUnbonding({
      id: "u0",
      providerId: P1,
      amount: 1n,
      releaseAt: 5_000,
      released: false,
    });
    await h.store.verification.markUnbondingReleased("u0");
    await h.store.verification.putAudit(audit("a1", "j1", { status: "slashed", decidedAt: 30 }));
    const slash = (jobId: string, amount: bigint, staked: bigint, unbonding: bigint, at: number) =>
      slashEvent({
        jobId,
        providerId: P1,
        consumerId: "alice",
        cost: 100n,
        amount,
        staked,
        unbonding,
        reporters: [V1, V2],
        rewardBps: 2_000,
        at,
      });
    // the first takes 1,100 from stake; the second 7,000: all 4,900 left of stake, then 2,100 of unbonding
    await h.store.commit([{ ledger: slash("j1", 1_100n, 6_000n, 4_000n, 30) }]);
    await h.store.commit([{ ledger: slash("j2", 7_000n, 4_900n, 4_000n, 40) }]);
    await h.store.commit([
      {
        ledger: slashEvent({
          jobId: "k1",
          providerId: P2,
          consumerId: "alice",
          cost: 10n,
          amount: 50n,
          staked: 500n,
          unbonding: 0n,
          reporters: [],
          rewardBps: 0,
          at: 50,
        }),
      },
    ]);

    const s = await h.store.verification.providerSlashes(P1, 10);
    expect(s.count).toBe(2);
    expect(s.total).toBe(8_100n);
    expect(s.rows.map((r) => r.jobId)).toEqual(["j2", "j1"]);
    expect(s.rows[1]).toEqual({
      eventId: "job:j1:slash",
      jobId: "j1",
      at: 30,
      amount: 1_100n,
      refunded: 100n,
      rewarded: 200n,
      burned: 800n,
      reporters: [V1, V2],
      auditId: "a1",
      kind: "sampled",
    });
    expect(s.rows[0]).toMatchObject({ amount: 7_000n, refunded: 100n, auditId: null, kind: null });
    // a verifier's slash for a canary verdict names the canary audit, not the job it judged: that
    // job is another provider's, and the verifier was not slashed for running it
    await h.store.commit([{ ledger: stakeDepositEvent("stake:v1", V1, 300n, 10) }]);
    await h.store.commit([
      {
        ledger: verifierSlashEvent({
          auditId: "c1",
          jobId: "j1",
          verifierId: V1,
          amount: 200n,
          staked: 300n,
          unbonding: 0n,
          at: 60,
        }),
      },
    ]);
    expect(await h.store.verification.providerSlashes(V1, 10)).toEqual({
      count: 1,
      total: 200n,
      rows: [
        {
          eventId: "audit:c1:verifier-slash",
          jobId: null,
          at: 60,
          amount: 200n,
          refunded: 0n,
          rewarded: 0n,
          burned: 200n,
          reporters: [],
          auditId: "c1",
          kind: "verifier",
        },
      ],
    });
    const newest = await h.store.verification.providerSlashes(P1, 1);
    expect(newest).toMatchObject({ count: 2, total: 8_100n });
    expect(newest.rows.map((r) => r.jobId)).toEqual(["j2"]);
    expect(await h.store.verification.providerSlashes("nobody", 10)).toEqual({ count: 0, total: 0n, rows: [] });
    expect(await h.store.verification.openUnbondings(P1)).toEqual([{ id: "u1", amount: 4_000n, releaseAt: 9_000 }]);
    expect(await h.store.verification.openUnbondings(P2)).toEqual([]);

    // the providers page carries each provider's stake and unbonding from the same accounts
    await h.store.commit([
      { provider: makeProvider(P1) },
      { provider: makeProvider(P2) },
      { provider: makeProvider("p3") },
    ]);
    expect(await h.store.balance(stakeAccounts.stake(P1))).toBe(0n);
    expect(await h.store.balance(stakeAccounts.unbonding(P1))).toBe(1_900n);
    const page = await h.store.explorer.providersPage({ limit: 10, offset: 0, sort: "stake" });
    expect(page.total).toBe(3);
    expect(page.rows.map((r) => [r.id, r.stake, r.unbonding])).toEqual([
      [P2, 450n, 0n],
      [P1, 0n, 1_900n],
      ["p3", 0n, 0n],
    ]);
    expect(page.rows[0]?.earnings).toBe(0n);
    const byId = await h.store.explorer.providersPage({ limit: 1, offset: 1, sort: "id" });
    expect(byId.rows.map((r) => r.id)).toEqual([P2]);
    expect(byId.total).toBe(3);
  });
}
