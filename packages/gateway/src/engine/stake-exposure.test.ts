// One stake backs every job a provider holds at once. The engine and the verification coordinator
// as the gateway wires them (verification/start.ts), over a real SQLite store: a provider whose
// stake is 40 × one job's escrow is leased one such job at a time, however many slots it has, and
// a settled job whose audit is undecided still counts against its stake until the audit is decided.
import { accounts, depositEvent, stakeAccounts, stakeDepositEvent } from "@tessera/core";
import { canonicalHash } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { createMetrics } from "../metrics.js";
import { VerificationConfigSchema } from "../verification/config.js";
import { VerificationCoordinator } from "../verification/coordinator.js";
import { signedResult, type TestNode, testNode, verdictOf, WASM_OUTPUT } from "../verification/test-nodes.js";
import { Engine, type SubmitRequest } from "./engine.js";
import { TEST_MODULE, testWasmSpec, turns } from "./test-engine.js";

/** a wasm job of 1 s at 1,000 SU/s and 10 nc/SU escrows 10,000 nc */
const ESCROW = 10_000n;
const K = 40n;
const STAKE = K * ESCROW;
const WASM = { runtimes: ["wasm" as const], models: [], pricePerUnit: 10, maxConcurrency: 4, throughput: 1_000 };

let store: Store;
let engine: Engine;
let coordinator: VerificationCoordinator;
let provider: TestNode;
let verifier: TestNode;
let second: TestNode;

const leasesOf = (n: TestNode) => n.sent.filter((m) => m.type === "lease").map((m) => m.jobId);
const request = (i: number): SubmitRequest => ({
  consumerId: "c1",
  spec: testWasmSpec(),
  constraints: {},
  requestHash: `${i}`.padStart(64, "0"),
  jobClass: "interactive",
  deadlineMs: 60_000,
});
const data = WASM_OUTPUT.data;
const resultOf = (jobId: string, standardUnits = 5) => signedResult(provider, jobId, standardUnits);
/** how far the engine's clock runs ahead: a result billing a whole 1 s job (1,000 SU) comes a second after its submit */
let ahead = 0;

beforeEach(async () => {
  store = await openStore(":memory:");
  provider = testNode("op-p", false, WASM);
  verifier = testNode("op-v", true, WASM);
  second = testNode("op-w", true, WASM);
  await store.putBlob(TEST_MODULE, new Uint8Array([0, 97, 115, 109]), 0);
  await store.commit([
    { ledger: depositEvent("deposit:c1", "c1", 1_000_000_000n, 0) },
    { ledger: stakeDepositEvent("stake:p", provider.session.id, STAKE, 0) },
    // staked to judge audits, not to be leased jobs (--verifier-min-stake below --min-stake)
    { ledger: stakeDepositEvent("stake:v", verifier.session.id, 1n, 0) },
    { ledger: stakeDepositEvent("stake:w", second.session.id, 1n, 0) },
  ]);
  ahead = 0;
  engine = new Engine(
    store,
    parseGatewayConfig({ db: ":memory:" }),
    pino({ level: "silent" }),
    createMetrics(),
    () => Date.now() + ahead,
  );
  coordinator = new VerificationCoordinator({
    store,
    writer: engine.writer,
    sessions: () => engine.sessions.values(),
    config: VerificationConfigSchema.parse({
      minStake: STAKE.toString(),
      verifierMinStake: "1",
      // every result audited: the audit that holds the stake is always there
      policy: { newRate: 1, floorRate: 1, afterFailureRate: 1, slashMultiple: Number(K) },
      passRecheckRate: 0,
    }),
    log: pino({ level: "silent" }),
    random: () => 0,
    onEligibilityChanged: () => engine.kick(),
  });
  // as verification/start.ts wires them
  engine.eligible = (s) => coordinator.eligible(s);
  engine.jobCostCap = (s, inFlight) => coordinator.maxJobCostOf(s.id, inFlight);
  engine.onSettled = (job) => coordinator.onSettled(job);
  await coordinator.restoreRecords();
  for (const n of [provider, verifier, second]) {
    engine.connect(n.session);
    await coordinator.stakes.refresh(n.session.id);
  }
});

afterEach(async () => {
  engine.stop();
  // a write still lingering (an audit's fee, a verdict) would commit after the store closed
  await engine.writer.drain();
  await store.close();
});

describe("a provider's stake backs all its jobs at once", () => {
  it("leases a provider staked 40 × one job's escrow one such job at a time, whatever its concurrency", async () => {
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await engine.submit(request(i)));
    expect(jobs.map((j) => j.escrow)).toEqual(Array(4).fill(ESCROW));
    await turns(20);
    // four at once would be 4 × 400,000 of slashes against a stake of 400,000: cheating on all four,
    // the first slash took the whole stake and the other three nothing, nor refunded their consumers
    expect(leasesOf(provider)).toHaveLength(1);
    expect(engine.runningCount).toBe(1);
  });

  it("counts a settled job whose audit is undecided against the stake until the audit is decided", async () => {
    for (let i = 0; i < 2; i++) await engine.submit(request(i));
    await turns(20);
    const [first] = leasesOf(provider);
    expect(await engine.result(provider.session, resultOf(first as string))).toEqual({ accepted: true });
    await turns(20);
    // settled at 50 nc; its audit went to the verifier and is undecided: 40 × 50 of the stake may
    // still be slashed, so the stake backs 9,950 more, not the second job's 10,000
    const audit = verifier.sent.find((m) => m.type === "audit");
    expect(audit?.type).toBe("audit");
    expect(coordinator.maxJobCostOf(provider.session.id, 0n)).toBe(ESCROW - 50n);
    expect(leasesOf(provider)).toHaveLength(1);
    if (audit?.type !== "audit") return;
    await coordinator.onVerdict(
      verifier.session,
      verdictOf(verifier, audit.auditId, audit.jobId, true, { outputHash: canonicalHash({ data }) }),
    );
    await turns(20);
    // passed: nothing of the stake is at risk for it any more, and the second job is leased
    expect(coordinator.maxJobCostOf(provider.session.id, 0n)).toBe(ESCROW);
    expect(leasesOf(provider)).toHaveLength(2);
  });
});

describe("a job whose result is being committed", () => {
  it("keeps its stake drawn on until its audit is drawn: a round meanwhile leases that stake to no one", async () => {
    await engine.submit(request(0));
    await turns(20);
    const [first] = leasesOf(provider);
    // the settle's commit is held: the job has left the running set, its audit is not drawn yet
    const write = engine.writer.write.bind(engine.writer);
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    engine.writer.write = async (...args: Parameters<typeof write>) => {
      if (args[0].job?.status === "completed") await gate;
      return write(...args);
    };
    ahead += 1_000;
    const accepted = engine.result(provider.session, resultOf(first as string, 1_000));
    await turns(5);
    expect(engine.activeJob(first as string)).toBeUndefined();
    // a submit meanwhile runs a round: the stake the first job drew on is not free yet
    await engine.submit(request(1));
    await turns(20);
    expect(leasesOf(provider)).toHaveLength(1);
    open();
    expect(await accepted).toEqual({ accepted: true });
    await turns(20);
    // now its undecided audit holds 40 × its cost (10,000): still nothing to back the second job
    expect(leasesOf(provider)).toHaveLength(1);
    expect(verifier.sent.some((m) => m.type === "audit")).toBe(true);
  });
});

describe("a provider cheating on every job it holds", () => {
  it("is slashed the full multiple for each job it was paid for, and each consumer is refunded", async () => {
    // four consumers' jobs; the provider bills each in full (10,000 nc) and both verifiers fail
    // every result. Without the rule it held all four at once: the first slash took the whole
    // 400,000 of stake, the other three took 0, and three consumers paid for nothing got nothing back
    const consumers = ["ca", "cb", "cc", "cd"];
    await store.commit(consumers.map((c) => ({ ledger: depositEvent(`deposit:${c}`, c, 1_000_000n, 0) })));
    for (const [i, c] of consumers.entries()) await engine.submit({ ...request(i), consumerId: c });
    await turns(20);
    const answered = new Set<string>();
    const judged = new Set<string>();
    for (let round = 0; round < 5; round++) {
      ahead += 1_000;
      for (const id of leasesOf(provider).filter((x) => !answered.has(x))) {
        answered.add(id);
        await engine.result(provider.session, resultOf(id, 1_000));
      }
      await turns(20);
      for (const v of [verifier, second])
        for (const m of v.sent)
          if (m.type === "audit" && !judged.has(`${v.session.id}/${m.auditId}`)) {
            judged.add(`${v.session.id}/${m.auditId}`);
            await coordinator.onVerdict(
              v.session,
              verdictOf(v, m.auditId, m.jobId, false, { outputHash: canonicalHash({ data }) }),
            );
            await turns(20);
          }
    }
    await engine.writer.drain();
    const paid = [];
    for (const id of answered) paid.push(await store.getJob(id));
    expect(paid.length).toBeGreaterThan(0);
    for (const job of paid) {
      expect(job?.cost).toBe(ESCROW);
      // the slash of each: 40 × its cost, the consumer refunded first
      const slash = (await store.postings({ jobId: job?.id as string, limit: 100 })).filter((t) => t.kind === "slash");
      const taken = slash
        .filter((t) => t.from === stakeAccounts.stake(provider.session.id))
        .reduce((a, t) => a + t.amount, 0n);
      expect({ job: job?.id, taken }).toEqual({ job: job?.id, taken: K * ESCROW });
      expect(slash).toContainEqual(
        expect.objectContaining({
          from: stakeAccounts.stake(provider.session.id),
          to: accounts.available(job?.consumerId as string),
          amount: ESCROW,
        }),
      );
    }
    // slashed and excluded after its first: the rest wait for another provider
    expect(coordinator.view(provider.session.id).slashed).toBe(STAKE.toString());
  });
});
