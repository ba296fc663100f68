// Which of the engine's writes may linger for a group commit, over a real SQLite store: a Batch API
// line's (patient) but not a job a client waits on. And what the engine takes from a provider's results.
import { accounts, depositEvent, JOB_AT_FAULT, leaseTimeCapMs, llmStandardUnits, OUTPRICED } from "@tessera/core";
import { canonicalHash, type JobSpec, signResult } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { createMetrics } from "../metrics.js";
import {
  signedResult,
  signedWasmOutput,
  TEST_MODEL,
  type TestNode,
  testNode,
  WASM_OUTPUT,
} from "../verification/test-nodes.js";
import { Engine, type SubmitRequest } from "./engine.js";
import { OUTPRICED_GRACE_MS } from "./outpriced.js";
import { openTestStore, restoredEngine, sweep, testWasmSpec, turns, WASM_NODE } from "./test-engine.js";
import { LINGER_MS } from "./writer.js";

let store: Store;
let engine: Engine;

beforeEach(async () => {
  store = await openTestStore();
  // only the linger timer is faked: turns of the event loop (setImmediate) stay real
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  engine = new Engine(store, parseGatewayConfig({ db: ":memory:" }), pino({ level: "silent" }), createMetrics());
  // a wasm node was here once: a wasm job queued while none is online is escrowed for its speed
  const seen = testNode("seen", false, WASM_NODE);
  engine.connect(seen.session);
  engine.disconnect(seen.session);
  await turns(3); // its record's commit, which lingers for no one
});

afterEach(async () => {
  vi.useRealTimers();
  engine.stop();
  await store.close();
});

/** A new engine on the same store, on the test's clock, restored (which starts the sweep). */
const restartOn = async (now: () => number, config: Record<string, unknown> = {}) => {
  engine.stop();
  engine = await restoredEngine(store, now, config);
};

const request = (over: Partial<SubmitRequest> = {}): SubmitRequest => ({
  consumerId: "c1",
  spec: testWasmSpec(),
  // no provider is online: a price ceiling lets the job queue
  constraints: { maxPricePerUnit: 10 },
  requestHash: "aa".repeat(32),
  jobClass: "batch",
  deadlineMs: 60_000,
  ...over,
});

describe("Engine writes and group commit", () => {
  it("answers a native job's submit at the end of its turn, escrowed", async () => {
    // the linger timer is never advanced: this submit must not wait for it
    const job = await engine.submit(request());
    expect((await store.getJob(job.id))?.status).toBe("queued");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow);
  });

  it("lets a Batch API line's submit linger until the group commits", async () => {
    let answered = false;
    const submitted = engine.submit(request({ patient: true })).then((j) => {
      answered = true;
      return j;
    });
    await turns(5);
    expect(answered).toBe(false);
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    vi.advanceTimersByTime(LINGER_MS);
    const job = await submitted;
    expect((await store.getJob(job.id))?.status).toBe("queued");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow);
  });

  it("commits a lingering line's submit at once when a native submit arrives", async () => {
    const line = engine.submit(request({ patient: true }));
    await turns(2);
    const native = await engine.submit(request({ requestHash: "bb".repeat(32) }));
    const job = await line;
    expect((await store.getJob(job.id))?.status).toBe("queued");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow + native.escrow);
  });
});

describe("Engine cancels", () => {
  it("answers every one of many simultaneous cancels with the cancelled job", async () => {
    const job = await engine.submit(request({ jobClass: "interactive" }));
    const answers = await Promise.all(Array.from({ length: 10 }, () => engine.cancel("c1", job.id)));
    expect(answers.map((j) => j.status)).toEqual(Array(10).fill("cancelled"));
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
  });
});

const leasesOf = (n: TestNode) => n.sent.filter((m) => m.type === "lease").map((m) => m.jobId);
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await turns(1);
  expect(ok()).toBe(true);
};
/** Connects the nodes, submits an interactive job and waits for its lease; returns it and its holder. */
const leasedTo = async (nodes: TestNode[], over: Partial<SubmitRequest> = {}) => {
  for (const n of nodes) engine.connect(n.session);
  const job = await engine.submit(request({ jobClass: "interactive", constraints: {}, ...over }));
  await until(() => nodes.some((n) => leasesOf(n).includes(job.id)));
  const holder = nodes.find((n) => leasesOf(n).includes(job.id)) as TestNode;
  return { job, holder };
};
/** A node's word that the job itself is at fault. */
const faultClaim = (job: { id: string }, attempt: number) => ({
  type: "failure" as const,
  jobId: job.id,
  attempt,
  retryable: false,
  reason: "trap: unreachable",
});

const output = WASM_OUTPUT;

describe("Engine and a job's deadline", () => {
  it("leases no job whose deadline passed before its first round, and fails it refunded", async () => {
    let t = 1_000_000;
    await restartOn(() => t);
    const node = testNode("idle", false, WASM_NODE);
    engine.connect(node.session);
    const job = await engine.submit(request({ constraints: {}, deadlineMs: 1 }));
    // the submit's commit took longer than the deadline: the round after it leases nothing, and the
    // sweep (every 250 ms, real time) fails it. Waiting on turns alone ended before the sweep ran
    // whenever 10,000 of them took less than 250 ms.
    t += 2;
    for (let i = 0; i < 20 && (await store.getJob(job.id))?.status === "queued"; i++) await sweep();
    expect(leasesOf(node)).not.toContain(job.id);
    expect(await store.getJob(job.id)).toMatchObject({
      status: "failed",
      error: "no provider with capacity could take the job before its deadline",
    });
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
  });
});

describe("Engine results from a provider", () => {
  const node = testNode("here", false, WASM_NODE);
  const result = (jobId: string, standardUnits: number, data = output.data) =>
    signedResult(node, jobId, standardUnits, data);

  it("accepts one result per lease however many frames arrive together", async () => {
    const { job } = await leasedTo([node]);
    const answers = await Promise.all([
      engine.result(node.session, result(job.id, 5)),
      ...Array.from({ length: 9 }, (_, i) => engine.result(node.session, result(job.id, 50 + i, `other-${i}`))),
    ]);
    expect(answers.filter((a) => a.accepted)).toHaveLength(1);
    expect(answers[0]).toEqual({ accepted: true });
    const stored = await store.getJob(job.id);
    // the record is the one that was paid for
    expect(stored).toMatchObject({ status: "completed", cost: 50n, output });
    expect(node.session.completed).toBe(1);
  });

  it("answers a cancel that lands while the job's result commits with the completed, billed job", async () => {
    const { job } = await leasedTo([node]);
    const accepted = engine.result(node.session, result(job.id, 5));
    // the result is decided (the job left the running set); its commit has not happened yet
    for (let i = 0; i < 50 && engine.activeJob(job.id); i++) await Promise.resolve();
    expect(engine.activeJob(job.id)).toBeUndefined();
    const answer = await engine.cancel("c1", job.id);
    expect(answer).toMatchObject({ status: "completed", cost: 50n });
    expect(await accepted).toEqual({ accepted: true });
    expect(await store.getJob(job.id)).toMatchObject({ status: "completed", cost: 50n });
  });

  it("refuses a result billed past the job's time cap at the node's own throughput", async () => {
    const { job } = await leasedTo([node]);
    // 1 s at 1,000 SU/s: 2,000 SU with the timer's slack
    const answer = await engine.result(node.session, result(job.id, 1e12));
    expect(answer).toEqual({ accepted: false, reason: expect.stringMatching(/^standardUnits 1000000000000 exceed/) });
    expect((await store.getJob(job.id))?.status).toBe("queued"); // back in the queue for another node
  });

  it("refuses a WASM result billing more than its fuel limit makes, and takes one that does not", async () => {
    const { job } = await leasedTo([node]);
    // 10¹⁰ fuel: 1,000 SU, at 10 nc/SU
    expect(job.escrow).toBe(10_000n);
    expect(await engine.result(node.session, result(job.id, 1_001))).toEqual({
      accepted: false,
      reason: "standardUnits 1001 exceed what the job's fuel limit of 10000000000 makes (1000)",
    });
    expect(await store.getJob(job.id)).toMatchObject({ status: "queued", cost: null });
    expect(await store.balance(accounts.earnings(node.session.id))).toBe(0n);
    // the whole fuel limit burned is paid in full (whether it was is for audits: a re-run counts it)
    await until(() => leasesOf(node).filter((id) => id === job.id).length === 2);
    expect(await engine.result(node.session, signedResult(node, job.id, 1_000, output.data, 2))).toEqual({
      accepted: true,
    });
    expect(await store.getJob(job.id)).toMatchObject({ status: "completed", cost: 10_000n });
  });

  it("fails a WASM job that ran out of fuel, billed its whole limit, and refuses such a claim billing less", async () => {
    const { job } = await leasedTo([node]);
    const outOfFuel = { data: "", outOfFuel: true as const };
    expect(await engine.result(node.session, signedWasmOutput(node, job.id, 999, outOfFuel))).toEqual({
      accepted: false,
      reason: "an out-of-fuel result bills its whole fuel limit of 10000000000 (1000 standard units), not 999",
    });
    await until(() => leasesOf(node).filter((id) => id === job.id).length === 2);
    const before = await store.balance(accounts.available("c1"));
    expect(await engine.result(node.session, signedWasmOutput(node, job.id, 1_000, outOfFuel, 2))).toEqual({
      accepted: true,
    });
    expect(await store.getJob(job.id)).toMatchObject({
      status: "failed",
      error: "the job itself is at fault: wasm job ran out of fuel (limit 10000000000; a job may set limits.maxFuel)",
      cost: 10_000n,
      output: outOfFuel,
    });
    // the escrow went to the node and the fee, none back to the consumer
    expect(await store.balance(accounts.available("c1"))).toBe(before);
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    expect(await store.balance(accounts.earnings(node.session.id))).toBeGreaterThan(0n);
    expect(node.session.completed).toBeGreaterThan(0);
  });
});

describe("Engine and an LLM result's prompt tokens", () => {
  // 2 SU a token at 50 nc/SU; "hi" is 2 bytes, so at most 2 + 8 (BOS, template) = 10 prompt tokens
  const llmNode = () =>
    testNode("a", false, { models: [{ id: TEST_MODEL, name: "tiny", parameters: 1_000_000, contextSize: 256 }] });
  const hi = {
    runtime: "llm",
    model: TEST_MODEL,
    input: { prompt: "hi" },
    params: { temperature: 0 },
    limits: { maxOutputTokens: 100 },
  } as JobSpec;
  const llmResult = (n: TestNode, jobId: string, inputTokens: number, attempt = 1) => {
    const output = { text: "ok", tokens: [1, 2], logprobs: [-1, -1], finishReason: "stop" as const };
    const claim = {
      jobId,
      attempt,
      outputHash: canonicalHash(output),
      units: { inputTokens, outputTokens: 2, standardUnits: llmStandardUnits(1_000_000, inputTokens + 2) },
    };
    return { type: "result" as const, ...claim, output, signature: signResult(n.identity, claim), elapsedMs: 1 };
  };

  it("takes a count the prompt's bytes allow, and refuses one past it rather than bill it up to the escrow", async () => {
    const n = llmNode();
    const { job } = await leasedTo([n], { spec: hi });
    // (10 + 100) tokens × 2 SU × 50 nc
    expect(job.escrow).toBe(11_000n);
    // 1,000 prompt tokens for 2 bytes: would bill 100,200 nc, the whole escrow, where 10 is the most "hi" can be
    const answer = await engine.result(n.session, llmResult(n, job.id, 1_000));
    expect(answer).toEqual({
      accepted: false,
      reason: "inputTokens 1000 exceed the most the prompt can be (10: one per byte of its 2 bytes, and 8 of template)",
    });
    expect(await store.getJob(job.id)).toMatchObject({ status: "queued", cost: null });
    expect(n.session.failed).toBe(1);
    expect(await store.balance(accounts.earnings(n.session.id))).toBe(0n);
    // the bound itself is taken and paid: 12 tokens, 24 SU, 1,200 nc
    await until(() => leasesOf(n).filter((id) => id === job.id).length === 2);
    expect(await engine.result(n.session, llmResult(n, job.id, 10, 2))).toEqual({ accepted: true });
    expect(await store.getJob(job.id)).toMatchObject({ status: "completed", cost: 1_200n });
    expect(await store.balance(accounts.available("c1"))).toBe(1_000_000_000n - 1_200n);
  });
});

describe("Engine and a node's word against the job", () => {
  /** Two nodes; the job's first holder says it is at fault, and it is leased to the other. */
  const claimed = async () => {
    const nodes = [testNode("a", false, WASM_NODE), testNode("b", false, WASM_NODE)];
    const { job, holder } = await leasedTo(nodes);
    const other = nodes.find((n) => n !== holder) as TestNode;
    await engine.failure(holder.session, faultClaim(job, 1));
    await until(() => leasesOf(other).includes(job.id));
    return { nodes, job, holder, other };
  };

  it("fails a job as its own fault only once a second node says so too, at no cost to either", async () => {
    const { nodes, job, other } = await claimed();
    // one node's word: the job went to the other node, the escrow stays
    expect(engine.activeJob(job.id)?.status).toBe("running");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow);
    await engine.failure(other.session, faultClaim(job, 2));
    expect(await store.getJob(job.id)).toMatchObject({ status: "failed", error: `${JOB_AT_FAULT}trap: unreachable` });
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    expect(nodes.map((n) => n.session.failed)).toEqual([0, 0]);
  });

  it("remembers the first node's word across a gateway restart", async () => {
    const { job, holder, other } = await claimed();
    vi.advanceTimersByTime(LINGER_MS); // the new lease's commit, which lingers for no one
    await turns(3);
    await restartOn(Date.now);
    expect(engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 2, providerId: other.session.id });
    // the first claimant is online again: without its word, the job would go back to it
    engine.connect(holder.session);
    engine.connect(other.session);
    await engine.failure(other.session, faultClaim(job, 2));
    expect(await store.getJob(job.id)).toMatchObject({ status: "failed", error: `${JOB_AT_FAULT}trap: unreachable` });
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
  });

  it("counts a claim against the job against its maker once another node completes the job", async () => {
    const { job, holder, other } = await claimed();
    expect(await engine.result(other.session, signedResult(other, job.id, 5, output.data, 2))).toEqual({
      accepted: true,
    });
    expect([holder.session.failed, other.session.failed]).toEqual([1, 0]);
  });

  it("does not count the claim against its maker when the other node's result says the job trapped", async () => {
    const { job, holder, other } = await claimed();
    const trapped = signedWasmOutput(other, job.id, 5, { data: "", trap: "wasm trap: unreachable" }, 2);
    expect(await engine.result(other.session, trapped)).toEqual({ accepted: true });
    expect([holder.session.failed, other.session.failed]).toEqual([0, 0]);
    expect(await store.getJob(job.id)).toMatchObject({
      status: "failed",
      error: "the job itself is at fault: wasm trap: unreachable",
      cost: 50n,
    });
  });

  it("keeps what was counted against a node when it connects again over its open session", async () => {
    const node = testNode("a", false, WASM_NODE);
    const { job } = await leasedTo([node]);
    const forged = signedResult(node, job.id, 5);
    const answer = await engine.result(node.session, { ...forged, units: { ...forged.units, standardUnits: 6 } });
    expect(answer).toEqual({ accepted: false, reason: "result signature does not verify" });
    expect(node.session.failed).toBe(1);
    // a second connection's record is read from the store, which the open session has not written since
    const again = { ...node.session, failed: 0, completed: 0 };
    engine.connect(again);
    expect(again.failed).toBe(1);
    await until(() => leasesOf(node).length === 2); // the job, requeued, goes to the new connection
  });

  it("takes one node's word when no other node could run the job", async () => {
    const { job, holder } = await leasedTo([testNode("a", false, WASM_NODE), testNode("llm-only", false)]);
    await engine.failure(holder.session, faultClaim(job, 1));
    expect((await store.getJob(job.id))?.status).toBe("failed");
  });

  it("counts a node giving back an interactive lease as a failed attempt, so a release loop ends", async () => {
    const node = testNode("a", false, WASM_NODE);
    const { job } = await leasedTo([node]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(() => leasesOf(node).filter((id) => id === job.id).length === attempt);
      await engine.release(node.session, { jobId: job.id, attempt, reason: "no" });
    }
    expect(await store.getJob(job.id)).toMatchObject({ status: "failed", attempt: 3 });
    expect(node.session.failed).toBe(3);
  });

  it("lets a node give back a batch lease free once; the same job given back by it again counts", async () => {
    const node = testNode("a", false, WASM_NODE);
    const { job } = await leasedTo([node], { jobClass: "batch" });
    await engine.release(node.session, { jobId: job.id, attempt: 1, reason: "paused by its owner" });
    expect(await store.getJob(job.id)).toMatchObject({ status: "queued", maxAttempts: 4 });
    await until(() => leasesOf(node).filter((id) => id === job.id).length === 2);
    await engine.release(node.session, { jobId: job.id, attempt: 2, reason: "paused by its owner" });
    expect(await store.getJob(job.id)).toMatchObject({ maxAttempts: 4 });
    expect(node.session.failed).toBe(1);
  });
});

describe("Engine time caps", () => {
  let clock = 1_000_000;
  const restart = () => restartOn(() => clock);

  it("takes a lease back from a node that heartbeats past the job's time cap, and tells the node", async () => {
    await restart();
    const node = testNode("a", false, WASM_NODE);
    const { job } = await leasedTo([node]);
    const cap = leaseTimeCapMs(job.spec, node.session.capabilities);
    // alive all along: a heartbeat renews the lease at every step
    for (const step of [cap / 2, cap / 2 - 1]) {
      clock += step;
      engine.heartbeat(node.session, [{ jobId: job.id, attempt: 1 }]);
      await new Promise((r) => setImmediate(r));
    }
    await sweep(); // within the cap, nothing happens
    expect(engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 1 });
    clock += 2;
    engine.heartbeat(node.session, [{ jobId: job.id, attempt: 1 }]);
    await sweep();
    expect(node.sent.some((m) => m.type === "cancel" && m.jobId === job.id)).toBe(true);
    expect(node.session.failed).toBe(1);
    let attempts = await store.attempts(job.id);
    for (let i = 0; i < 100 && attempts[0]?.outcome === "running"; i++) {
      await turns(1);
      attempts = await store.attempts(job.id);
    }
    expect(attempts[0]).toMatchObject({ outcome: "expired", reason: expect.stringMatching(/^ran past its time cap/) });
  });

  it("counts a running job's time cap again from a restart, from its node's stored capabilities", async () => {
    await restart();
    const node = testNode("a", false, WASM_NODE);
    const { job } = await leasedTo([node]);
    vi.advanceTimersByTime(LINGER_MS); // the lease's commit lingers: make it durable
    for (let i = 0; i < 100 && (await store.getJob(job.id))?.status !== "running"; i++) await turns(1);
    await restart();
    engine.connect(node.session);
    const cap = leaseTimeCapMs(job.spec, node.session.capabilities);
    clock += parseGatewayConfig({ db: ":memory:" }).restartGraceMs + cap - 1;
    engine.heartbeat(node.session, [{ jobId: job.id, attempt: 1 }]);
    await sweep();
    expect(engine.activeJob(job.id)).toMatchObject({ status: "running", attempt: 1 });
    clock += 2;
    engine.heartbeat(node.session, [{ jobId: job.id, attempt: 1 }]);
    await sweep();
    expect(node.sent.some((m) => m.type === "cancel" && m.jobId === job.id)).toBe(true);
  });
});

describe("Engine escrow", () => {
  it("holds a consumer who cannot cover the dearest node to the dearest price it can cover", async () => {
    // c1 holds 1e9 nc; a WASM job is escrowed at 1,000 SU (1 s at 1,000 SU/s)
    const cheap = testNode("cheap", false, WASM_NODE);
    const dear = testNode("dear", false, { ...WASM_NODE, pricePerUnit: 10_000_000 });
    const { job, holder } = await leasedTo([cheap, dear]);
    expect(job).toMatchObject({ escrow: 10_000n, constraints: { maxPricePerUnit: 10 } });
    expect(holder).toBe(cheap);
    // one who can cover the dearest is escrowed at it, as before
    await store.commit([{ ledger: depositEvent("deposit:c1:more", "c1", 10n ** 10n, 0) }]);
    const rich = await engine.submit(
      request({ jobClass: "interactive", constraints: {}, requestHash: "cc".repeat(32) }),
    );
    expect(rich).toMatchObject({ escrow: 10n ** 10n, constraints: {} });
  });

  it("leases an LLM job only to a node whose bill its escrow covers", async () => {
    const tiny = (parameters: number) => ({ models: [{ id: TEST_MODEL, name: "tiny", parameters, contextSize: 256 }] });
    const known = testNode("known", false, tiny(1_000_000)); // 50 nc/SU
    engine.connect(known.session);
    engine.disconnect(known.session);
    const spec = { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" }, limits: { maxOutputTokens: 8 } };
    const job = await engine.submit(
      request({ jobClass: "interactive", spec: spec as JobSpec, constraints: { maxPricePerUnit: 50 } }),
    );
    // the same model declared twice as large would bill twice the escrow: passed over
    const inflated = testNode("inflated", false, tiny(2_000_000));
    engine.connect(inflated.session);
    await turns(5);
    expect(leasesOf(inflated)).toEqual([]);
    const honest = testNode("honest", false, tiny(1_000_000));
    engine.connect(honest.session);
    await until(() => leasesOf(honest).includes(job.id));
  });

  it("sizes an LLM job by each online node's own declared model size, not by the first declaration seen", async () => {
    const tiny = (parameters: number) => ({ models: [{ id: TEST_MODEL, name: "tiny", parameters, contextSize: 256 }] });
    const spec = { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" }, limits: { maxOutputTokens: 8 } };
    const submit = (hash: string) =>
      engine.submit(request({ jobClass: "interactive", spec: spec as JobSpec, constraints: {}, requestHash: hash }));
    // the first to offer the model claims it is 10^13 parameters, then leaves
    const liar = testNode("liar", false, tiny(10_000_000_000_000));
    engine.connect(liar.session);
    engine.disconnect(liar.session);
    const honest = testNode("honest", false, tiny(1_000_000));
    engine.connect(honest.session);
    const job = await submit("d1".repeat(32));
    const fair = job.escrow;
    expect(fair).toBeLessThan(1_000_000_000n); // c1's whole balance
    await until(() => leasesOf(honest).includes(job.id));
    // online again: a consumer who cannot cover its claim is held to the honest node's size
    engine.connect(liar.session);
    const held = await submit("d2".repeat(32));
    expect(held.escrow).toBe(fair);
    await until(() => leasesOf(honest).includes(held.id));
    expect(leasesOf(liar)).toEqual([]);
  });

  it("sizes a wasm job queued with no node online by its fuel limit, whatever speed a node claimed", async () => {
    const fresh = new Engine(store, parseGatewayConfig({ db: ":memory:" }), pino({ level: "silent" }), createMetrics());
    try {
      // before fuel metering a wasm bill was CPU time × the node's claimed speed, and a job queued
      // with no node online was sized by the fastest seen: 10^11 nc at this claim, a 402 for c1's 10^9
      const liar = testNode("liar", false, { ...WASM_NODE, throughput: 1e10 });
      fresh.connect(liar.session);
      fresh.disconnect(liar.session);
      // 1 s of time cap and no maxFuel: 3·10¹⁰ fuel, 3,000 SU at the ceiling's 10 nc
      const uncapped = { ...testWasmSpec(), limits: { timeoutMs: 1_000, maxMemoryMb: 16 } } as JobSpec;
      expect((await fresh.submit(request({ spec: uncapped }))).escrow).toBe(30_000n);
      const capped = {
        ...testWasmSpec(),
        limits: { timeoutMs: 1_000, maxMemoryMb: 16, maxFuel: 30_000_000 },
      } as JobSpec;
      expect((await fresh.submit(request({ spec: capped, requestHash: "ee".repeat(32) }))).escrow).toBe(30n);
      // a gateway that never saw a wasm node sizes it the same
      const restarted = new Engine(
        store,
        parseGatewayConfig({ db: ":memory:" }),
        pino({ level: "silent" }),
        createMetrics(),
      );
      try {
        await restarted.restore();
        const again = request({ spec: uncapped, requestHash: "ef".repeat(32) });
        expect((await restarted.submit(again)).escrow).toBe(30_000n);
      } finally {
        restarted.stop();
      }
    } finally {
      fresh.stop();
    }
  });

  it("answers 402 with what the cheapest node would need when none is within reach", async () => {
    const dear = testNode("dear", false, { ...WASM_NODE, pricePerUnit: 10_000_000 });
    const dearer = testNode("dearer", false, { ...WASM_NODE, pricePerUnit: 20_000_000 });
    for (const n of [dear, dearer]) engine.connect(n.session);
    await expect(engine.submit(request({ jobClass: "interactive", constraints: {} }))).rejects.toMatchObject({
      status: 402,
      message: "This job may cost up to 10000000000 nc but the account has 1000000000 nc available.",
    });
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
  });
});

describe("Engine and a job the market moved past", () => {
  it("fails and refunds a queued LLM job once every node that could run it has billed past its escrow for the grace", async () => {
    let clock = 1_000_000;
    await restartOn(() => clock);
    const tiny = { models: [{ id: TEST_MODEL, name: "tiny", parameters: 1_000_000, contextSize: 256 }] };
    const cheap = testNode("cheap", false, { ...tiny, pricePerUnit: 10 });
    const spec = { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" }, limits: { maxOutputTokens: 8 } };
    const { job } = await leasedTo([cheap], { spec: spec as JobSpec });
    // the node it was sized for gives it back and leaves; only a dearer one is online now
    await engine.failure(cheap.session, { type: "failure", jobId: job.id, attempt: 1, retryable: true, reason: "oom" });
    engine.disconnect(cheap.session);
    const dear = testNode("dear", false, { ...tiny, pricePerUnit: 50 });
    engine.connect(dear.session);
    vi.useRealTimers();
    await sweep();
    clock += OUTPRICED_GRACE_MS - 1_000;
    await sweep();
    expect(engine.activeJob(job.id)?.status).toBe("queued"); // within the grace: a node may come back
    clock += 2_000;
    await sweep();
    await until(() => engine.activeJob(job.id) === undefined);
    const failed = await store.getJob(job.id);
    expect(failed).toMatchObject({ status: "failed", error: expect.stringMatching(new RegExp(`^${OUTPRICED}`)) });
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    expect(leasesOf(dear)).toEqual([]);
  });
});

describe("Engine stops a streamed job", () => {
  // 2 SU a token at 50 nc/SU
  const node = () =>
    testNode("a", false, { models: [{ id: TEST_MODEL, name: "tiny", parameters: 1_000_000, contextSize: 256 }] });
  const llm = (stream: boolean): Partial<SubmitRequest> => ({
    spec: {
      runtime: "llm",
      model: TEST_MODEL,
      input: { prompt: "hi" },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 100 },
    },
    stream,
  });
  const chunk = (jobId: string, seq: number, text: string, tokens: number[]) => ({
    type: "chunk" as const,
    jobId,
    attempt: 1,
    seq,
    text,
    tokens,
  });

  it("bills the tokens a client was streamed, one at most per byte of their text, and refunds the rest", async () => {
    const n = node();
    const { job } = await leasedTo([n], llm(true));
    engine.chunk(n.session, chunk(job.id, 0, "Hello", [1, 2]));
    engine.chunk(n.session, chunk(job.id, 1, " world", [3, 4, 5]));
    // 45 tokens claimed for one byte: billed as 1 (and the end token's 1)
    engine.chunk(
      n.session,
      chunk(
        job.id,
        2,
        "!",
        Array.from({ length: 45 }, (_, i) => 6 + i),
      ),
    );
    const stopped = await engine.cancel("c1", job.id);
    // 12 bytes of text: min(50 tokens, 12 + 1) = 13 tokens, 26 SU, 1,300 nc
    expect(stopped).toMatchObject({
      status: "cancelled",
      units: { inputTokens: 0, outputTokens: 13, standardUnits: 26 },
      cost: 1_300n,
    });
    expect(n.sent.some((m) => m.type === "cancel" && m.jobId === job.id)).toBe(true);
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    expect(await store.balance(accounts.earnings(n.session.id))).toBe(1_300n - (1_300n * 500n) / 10_000n);
    expect(await store.balance(accounts.available("c1"))).toBe(1_000_000_000n - 1_300n);
  });

  it("bills the prompt its node evaluated too, as a completed job is metered, up to the prompt's bound", async () => {
    const n = node();
    const { job } = await leasedTo([n], llm(true));
    // the first chunk says the prompt was 7 tokens; a later one cannot raise it
    engine.chunk(n.session, { ...chunk(job.id, 0, "Hello", [1, 2]), promptTokens: 7 });
    engine.chunk(n.session, { ...chunk(job.id, 1, " world", [3, 4, 5]), promptTokens: 9 });
    const stopped = await engine.cancel("c1", job.id);
    // 7 + 5 tokens, 2 SU each, 50 nc/SU
    expect(stopped).toMatchObject({
      status: "cancelled",
      units: { inputTokens: 7, outputTokens: 5, standardUnits: 24 },
      cost: 1_200n,
    });
    expect(await store.balance(accounts.earnings(n.session.id))).toBe(1_200n - (1_200n * 500n) / 10_000n);
    expect(await store.balance(accounts.available("c1"))).toBe(1_000_000_000n - 1_200n);
    // a count past what "hi" can be (2 bytes and 8 of template) is held to that
    const { job: second } = await leasedTo([n], { ...llm(true), requestHash: "dd".repeat(32) });
    engine.chunk(n.session, { ...chunk(second.id, 0, "Hello", [1, 2]), promptTokens: 1_000 });
    expect((await engine.cancel("c1", second.id)).units).toEqual({
      inputTokens: 10,
      outputTokens: 2,
      standardUnits: 24,
    });
  });

  it("refunds in full a job no client was streamed, whatever chunks its node sent", async () => {
    const n = node();
    const { job } = await leasedTo([n], llm(false));
    engine.chunk(n.session, chunk(job.id, 0, "Hello", [1, 2]));
    expect(await engine.cancel("c1", job.id)).toMatchObject({ status: "cancelled", cost: null });
    expect(await store.balance(accounts.available("c1"))).toBe(1_000_000_000n);
  });
});

describe("Engine preemption", () => {
  it("interrupts no batch job for a consumer held back by its concurrency cap, round after round", async () => {
    let clock = 1_000_000;
    await restartOn(() => clock, { maxRunningPerConsumer: 1, preemptAfterMs: 1_000 });
    await store.commit([{ ledger: depositEvent("deposit:c2", "c2", 1_000_000_000n, 0) }]);
    const one = { ...WASM_NODE, maxConcurrency: 1 };
    const [a, b] = [testNode("a", false, one), testNode("b", false, one)];
    // c1 runs its one job on a node, c2's batch job fills the other
    const { holder } = await leasedTo([a, b]);
    const other = holder === a ? b : a;
    const batch = await engine.submit(request({ consumerId: "c2", constraints: {}, requestHash: "bb".repeat(32) }));
    await until(() => leasesOf(other).includes(batch.id));
    // c1's second job waits at its cap, past --preempt-after-ms
    const second = await engine.submit(
      request({ jobClass: "interactive", constraints: {}, requestHash: "cc".repeat(32) }),
    );
    for (let round = 0; round < 20; round++) {
      clock += 1_500;
      engine.kick();
      await turns(3);
    }
    expect(other.sent.filter((m) => m.type === "cancel")).toEqual([]);
    expect(leasesOf(other)).toEqual([batch.id]);
    expect((await store.getJob(second.id))?.status).toBe("queued");
  });

  it("interrupts a batch job once for a waiting interactive job, which then takes its slot", async () => {
    let clock = 1_000_000;
    await restartOn(() => clock, { preemptAfterMs: 1_000 });
    const n = testNode("a", false, { ...WASM_NODE, maxConcurrency: 1 });
    engine.connect(n.session);
    const batch = await engine.submit(request({ constraints: {} }));
    await until(() => leasesOf(n).includes(batch.id));
    const chat = await engine.submit(
      request({ jobClass: "interactive", constraints: {}, requestHash: "cc".repeat(32) }),
    );
    for (let round = 0; round < 5; round++) {
      clock += 1_500;
      engine.kick();
      await turns(3);
    }
    expect(n.sent.filter((m) => m.type === "cancel").map((m) => m.jobId)).toEqual([batch.id]);
    expect(leasesOf(n)).toEqual([batch.id, chat.id]);
  });
});

describe("Engine and a node's WASM memory budget", () => {
  it("leases a WASM job only when its memory limit fits in what the node's running ones leave, and the next once one ends", async () => {
    // 4 slots, 100 MiB of WASM memory: of three 64 MiB jobs one runs; the others would wait on the node
    const node = testNode("op", false, { ...WASM_NODE, wasmMemoryMb: 100 });
    engine.connect(node.session);
    const spec = { ...(request().spec as JobSpec), limits: { timeoutMs: 1_000, maxMemoryMb: 64 } } as JobSpec;
    const jobs = [];
    for (const h of ["a1", "a2", "a3"])
      jobs.push(
        await engine.submit(
          request({ jobClass: "interactive", constraints: {}, spec, requestHash: h.padEnd(64, "0") }),
        ),
      );
    await until(() => leasesOf(node).length === 1);
    await turns(5);
    expect(leasesOf(node)).toHaveLength(1);
    const first = leasesOf(node)[0] as string;
    expect(await engine.result(node.session, signedResult(node, first, 5))).toEqual({ accepted: true });
    await until(() => leasesOf(node).length === 2);
    // a job larger than the whole budget (queued under a price ceiling) is never leased there, however free the node
    const huge = { ...spec, limits: { timeoutMs: 1_000, maxMemoryMb: 101 } } as JobSpec;
    const big = await engine.submit(request({ jobClass: "interactive", spec: huge, requestHash: "ff".repeat(32) }));
    for (const id of leasesOf(node)) if (id !== big.id) await engine.result(node.session, signedResult(node, id, 5));
    await turns(10);
    expect(leasesOf(node)).not.toContain(big.id);
    expect(engine.activeJob(big.id)?.status).toBe("queued");
  });

  it("refuses at submit a WASM job whose memory limit no node online has the budget for, unless it names a price to queue at", async () => {
    const node = testNode("op", false, { ...WASM_NODE, wasmMemoryMb: 100 });
    engine.connect(node.session);
    const huge = { ...(request().spec as JobSpec), limits: { timeoutMs: 1_000, maxMemoryMb: 101 } } as JobSpec;
    await expect(engine.submit(request({ constraints: {}, spec: huge }))).rejects.toThrow(
      /No provider online can give a WASM job 101 MiB of memory \(the largest WASM memory budget online is 100 MiB\)/,
    );
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    // with a price ceiling it queues, for a node with the memory to come
    expect((await engine.submit(request({ spec: huge }))).status).toBe("queued");
  });
});
