// Known-good canary audits on a real in-memory store, through the real coordinator and canary
// service: what a verifier can learn of one from the public audit record (GET /v1/jobs/:id/audits
// reads store.verification.auditsOfJob), and what a known-good result rests on. Real identities and
// signatures; the draws are fixed at 0, and which verifier is asked next is set by the order of the
// sessions (the coordinator takes the first candidate at a draw of 0).
import { EventEmitter } from "node:events";
import { CanaryPolicySchema, depositEvent, type JobRecord, stakeDepositEvent } from "@tessera/core";
import { openStore } from "@tessera/store";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Engine, SubmitRequest } from "../engine/engine.js";
import { GroupWriter } from "../engine/writer.js";
import { CanaryService } from "./canaries.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { auditsSent, TEST_MODEL, TEST_OUTPUT_HASH, type TestNode, testJob, testNode, verdictOf } from "./test-nodes.js";

const STAKE = 1_000n;
const WRONG_HASH = "c".repeat(64);
const SPEC = { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" }, limits: { maxOutputTokens: 8 } };

/**
 * A network of a provider `p` (op-p), a second provider `q` (op-q) that runs canary jobs, an honest
 * verifier `h`, a colluder `c` (passes everything) and two griefers `g1`, `g2` that look each
 * audit's job up in the public record and fail it unless an audit of it has passed already.
 */
async function network(policy: Record<string, unknown> = {}) {
  const store = await openStore(":memory:");
  const writer = new GroupWriter(store);
  const p = testNode("op-p", false);
  const q = testNode("op-q", false);
  const h = testNode("op-h", true);
  const c = testNode("op-c", true);
  const g1 = testNode("op-g1", true);
  const g2 = testNode("op-g2", true);
  let order: TestNode[] = [p, q, h, g1, g2];
  const submitted: SubmitRequest[] = [];
  const engine = {
    feed: new EventEmitter(),
    writer,
    models: new Map([[TEST_MODEL, { info: { id: TEST_MODEL, name: "tiny", parameters: 1000, contextSize: 256 } }]]),
    onlineSessions: () => [p.session, q.session],
    activeJob: () => undefined,
    llmSubmits: new Map(),
    submit: async (req: SubmitRequest) => {
      submitted.push(req);
      return { id: `job_canary${submitted.length}`, createdAt: 0 };
    },
  } as unknown as Engine;
  let canaries: CanaryService | undefined;
  const coordinator = new VerificationCoordinator({
    store,
    writer,
    sessions: () => order.map((n) => n.session),
    // a single pass is never re-checked here: who is asked is set by the order alone
    config: VerificationConfigSchema.parse({ minStake: STAKE.toString(), passRecheckRate: 0 }),
    log: pino({ level: "silent" }),
    random: () => 0,
    onPassed: (job, asked, operator) => canaries?.onPassed(job, asked, operator),
    onFailed: (verifierId) => canaries?.afterFailed(verifierId),
  });
  await coordinator.restoreRecords();
  const newService = () =>
    new CanaryService({
      engine,
      store,
      coordinator,
      policy: CanaryPolicySchema.parse({ verifierRate: 0, providerRate: 0, meanDelayMs: 0, ...policy }),
      gatewayId: "g",
      log: pino({ level: "silent" }),
      random: () => 0,
    });
  canaries = newService();
  let service = canaries;
  /** the gateway restarts: a new canary service restores what the store holds (the coordinator's records stay) */
  const restart = async () => {
    canaries = newService();
    service = canaries;
    await service.restore();
  };
  await store.commit([
    { ledger: depositEvent("deposit:canary", service.consumerId, 10n ** 15n, 0) },
    {
      ledger: {
        id: "fees",
        kind: "deposit",
        at: 0,
        transfers: [{ from: "external", to: "protocol:fees", amount: 10n ** 12n }],
      },
    },
  ]);
  for (const n of [p, q, h, c, g1, g2]) {
    await store.commit([{ ledger: stakeDepositEvent(`stake:${n.session.id}`, n.session.id, STAKE, 0) }]);
    await coordinator.stakes.refresh(n.session.id);
  }
  const griefers = [g1, g2];
  /** what each audit message was judged on, by the verifier that got it */
  const seen: Array<{ verifier: TestNode; jobId: string; auditId: string; publicRecord: unknown[] }> = [];
  const answered = new Set<string>();
  /** every verifier answers what it was sent, until nothing new comes */
  const deliver = async () => {
    for (let round = 0; round < 50; round++) {
      await new Promise((r) => setTimeout(r, 1));
      await writer.drain();
      let any = false;
      for (const v of [h, c, g1, g2])
        for (const m of auditsSent(v)) {
          if (answered.has(m.auditId + v.session.id)) continue;
          answered.add(m.auditId + v.session.id);
          any = true;
          const record = await store.verification.auditsOfJob(m.jobId);
          seen.push({ verifier: v, jobId: m.jobId, auditId: m.auditId, publicRecord: record });
          const pass = griefers.includes(v)
            ? record.some((a) => a.status === "passed")
            : v === c || m.outputHash === TEST_OUTPUT_HASH;
          const verdict = verdictOf(v, m.auditId, m.jobId, pass, { outputHash: m.outputHash });
          if (!(await service.onVerdict(v.session, verdict))) await coordinator.onVerdict(v.session, verdict);
        }
      if (!any && round > 2) return;
    }
  };
  /** a real job of `provider` settles with verifiers asked in `asked`'s order */
  const settle = async (id: string, provider: TestNode, asked: TestNode[], outputHash = TEST_OUTPUT_HASH) => {
    order = [p, q, ...asked];
    const job = testJob(id, provider.session.id, {
      cost: 100n,
      outputHash,
      deadlineAt: 60_000,
      spec: SPEC as JobRecord["spec"],
    });
    await store.commit([{ job }]);
    coordinator.onSettled(job);
    await deliver();
    return job;
  };
  /** a canary job is drawn (`draw`: after a real job; else one submitted already) and runs on `provider`, giving `outputHash` */
  const runCanary = async (provider: TestNode, outputHash = TEST_OUTPUT_HASH, draw = true) => {
    const before = submitted.length;
    if (draw) service.afterRealJob();
    for (let i = 0; i < 50 && submitted.length === (draw ? before : 0); i++) await new Promise((r) => setTimeout(r, 2));
    const id = `job_canary${submitted.length}`;
    const job = testJob(id, provider.session.id, {
      consumerId: service.consumerId,
      cost: 100n,
      outputHash,
      deadlineAt: 60_000,
      spec: SPEC as JobRecord["spec"],
    });
    await store.commit([{ job }]);
    await service.judge(job);
    await deliver();
    return job;
  };
  const view = (n: TestNode) => coordinator.view(n.session.id);
  return { store, coordinator, p, q, h, c, g1, g2, settle, runCanary, submitted, view, seen, restart };
}

describe("known-good canary audits", () => {
  it("cannot be told by a passed audit in the public record: griefers that pass only passed jobs never vouch a majority that strikes an honest verifier", async () => {
    const n = await network();
    // a real result the honest verifier passes
    await n.settle("job_1", n.p, [n.h]);
    // the griefers fail a fresh result (it has not passed); each then gets a known-good canary
    await n.settle("job_2", n.p, [n.g1, n.g2]);
    // twice they outvote the honest verifier
    await n.settle("job_3", n.p, [n.g1, n.h, n.g2]);
    await n.settle("job_4", n.p, [n.g1, n.h, n.g2]);
    // no known-good canary a griefer was sent showed a passed audit in the public record
    const told = n.seen.filter(
      (s) => s.verifier !== n.h && (s.publicRecord as Array<{ status: string }>).some((a) => a.status === "passed"),
    );
    expect(told).toEqual([]);
    expect(n.view(n.h)).toMatchObject({ verifierStrikes: 0, excluded: false, slashed: "0" });
    await n.store.close();
  });

  it("rest on two providers of different operators: an honest verifier that fails a result a colluder alone passed is not struck", async () => {
    const n = await network();
    // a wrong result, passed by the colluder alone
    await n.settle("job_1", n.p, [n.c], WRONG_HASH);
    // the honest verifier rightly fails another wrong result (and the colluder's pass is outvoted there)
    await n.settle("job_2", n.p, [n.h, n.g1], WRONG_HASH);
    expect(n.view(n.h)).toMatchObject({ verifierStrikes: 0, canariesFailed: 0, slashed: "0" });
    await n.store.close();
  });

  it("come from a canary job made for a verifier that failed a real result, answered byte for byte by another operator's provider; the public record shows a pending audit like any drawn audit's, and a griefer that checks it is caught", async () => {
    const n = await network();
    await n.settle("job_1", n.p, [n.h]);
    // no known-good result is there: the griefer's fail has a canary job submitted for it
    await n.settle("job_2", n.p, [n.g1, n.h]);
    expect(n.submitted).toHaveLength(1);
    expect(n.view(n.g1)).toMatchObject({ canariesFailed: 0, verifierStrikes: 0 });
    const canary = await n.runCanary(n.q, TEST_OUTPUT_HASH, false);
    const got = n.seen.filter((s) => s.jobId === canary.id);
    // to that verifier alone: once judged, its public record would tell the next
    expect(got.map((s) => s.verifier.session.id)).toEqual([n.g1.session.id]);
    expect(got[0]?.publicRecord).toEqual([
      expect.objectContaining({ id: got[0]?.auditId, status: "pending", kind: "sampled" }),
    ]);
    expect(n.view(n.g1)).toMatchObject({ canariesFailed: 1, verifierStrikes: 1, slashed: STAKE.toString() });
    await n.store.close();
  });

  it("never come from a canary job that the template's own operator answered", async () => {
    const n = await network();
    await n.settle("job_1", n.p, [n.h]);
    await n.settle("job_2", n.p, [n.g1, n.h]);
    // the template's provider itself runs the canary: no second party produced its output
    const canary = await n.runCanary(n.p, TEST_OUTPUT_HASH, false);
    expect(n.seen.filter((s) => s.jobId === canary.id)).toEqual([]);
    expect(n.view(n.g1)).toMatchObject({ canariesFailed: 0, verifierStrikes: 0 });
    await n.store.close();
  });

  it("go out as the canary job settles, never later: its audit would be created long after the job finished, which a drawn audit's never is", async () => {
    const n = await network({ providerRate: 1 });
    await n.settle("job_1", n.p, [n.h]);
    // a canary job drawn after a real job, reproduced by another operator while no verifier waits
    const early = await n.runCanary(n.q);
    await n.settle("job_2", n.p, [n.g1, n.h]);
    expect(n.seen.filter((s) => s.jobId === early.id)).toEqual([]);
    // the griefer's fail has a canary job of its own submitted
    expect(n.submitted).toHaveLength(2);
    await n.store.close();
  });

  it("never go to a verifier that judged the template's real job, which would know its spec and output again", async () => {
    const n = await network();
    await n.settle("job_1", n.p, [n.h]);
    // the honest verifier rightly fails a wrong result: the only template is one it judged
    await n.settle("job_2", n.p, [n.h, n.c], WRONG_HASH);
    expect(n.submitted).toEqual([]);
    await n.store.close();
  });
});
