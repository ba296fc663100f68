// The gateway's side of proof of capacity over a real in-memory store: which proofs schedule a
// node, for which claim, and what a failure costs it. The node's answers are real products
// (core's matmul); the clock is the test's, so a proof's round trip is exactly what the test says.
import { matmul, randomMatrix } from "@tessera/core";
import type { CapacityChallengeMessage } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { CapacityProver } from "./capacity.js";
import { VerificationConfigSchema } from "./config.js";
import { VerificationCoordinator } from "./coordinator.js";
import { type TestNode, testNode } from "./test-nodes.js";

const N = 64; // 0.524 units a product
let store: Store;
let clock: number;
let coordinator: VerificationCoordinator;
let prover: CapacityProver;

beforeEach(async () => {
  store = await openStore(":memory:");
  clock = 1_000_000;
  const config = VerificationConfigSchema.parse({ capacity: { n: N, slack: 8, allowanceMs: 150, retryMs: 15_000 } });
  const log = pino({ level: "silent" });
  coordinator = new VerificationCoordinator({
    store,
    writer: new GroupWriter(store),
    sessions: () => [],
    config,
    log,
  });
  prover = new CapacityProver(coordinator, config.capacity, log, undefined, () => clock);
});
afterEach(() => store.close());

const challenges = (n: TestNode) =>
  n.sent.filter((m): m is CapacityChallengeMessage => m.type === "capacity_challenge");

/** Answers the node's latest challenge with the true product, `afterMs` after it was sent. */
function answer(n: TestNode, afterMs: number, product?: Float64Array) {
  const c = challenges(n).at(-1) as CapacityChallengeMessage;
  const p = product ?? matmul(randomMatrix(c.n, c.seedA), randomMatrix(c.n, c.seedB), c.n);
  const bytes = Buffer.alloc(p.length * 8);
  for (const [i, v] of p.entries()) bytes.writeDoubleLE(v, i * 8);
  clock += afterMs;
  prover.onProof(n.session, { type: "capacity_proof", challengeId: c.challengeId, product: bytes.toString("base64") });
}

describe("proof of capacity at the gateway", () => {
  it("schedules a node once its product is right and in time for its claim", () => {
    // 0.524 units at 10 units/s: 52 ms of compute, 8× that is 419 ms (+ the 150 ms allowance)
    const n = testNode("op", false, { throughput: 10 });
    prover.tick([n.session]);
    expect(challenges(n)).toHaveLength(1);
    expect(prover.schedulable(n.session)).toBe(false);
    answer(n, 500);
    expect(prover.schedulable(n.session)).toBe(true);
    expect(coordinator.record(n.session.id)).toMatchObject({ capacityPassed: 1, capacityFailures: 0 });
  });

  it("does not take a quick answer as proof of any claim: a fast one is bounded by the round trip", () => {
    // an honest 60 ms round trip proves 8.7 units/s; a claim of a million units/s is not shown by it
    const n = testNode("op", false, { throughput: 1_000_000 });
    prover.tick([n.session]);
    answer(n, 60);
    expect(prover.schedulable(n.session)).toBe(false);
    expect(coordinator.record(n.session.id)).toMatchObject({ capacityPassed: 0, capacityFailures: 1 });
  });

  it("challenges a node back with a higher claim before scheduling it again, at once", () => {
    const first = testNode("op", false, { throughput: 10 });
    prover.tick([first.session]);
    answer(first, 100);
    const claiming = (throughput: number): TestNode => {
      const sent: TestNode["sent"] = [];
      const capabilities = { ...first.session.capabilities, throughput };
      return { ...first, sent, session: { ...first.session, capabilities, send: (m) => void sent.push(m) } };
    };
    // the same key back with a lower claim is scheduled on the proof it gave
    expect(prover.schedulable(claiming(5).session)).toBe(true);
    // claiming 1,000 times more: not scheduled, and challenged on the next tick, not minutes later
    const more = claiming(10_000);
    expect(prover.schedulable(more.session)).toBe(false);
    prover.tick([more.session]);
    expect(challenges(more)).toHaveLength(1);
    answer(more, 100);
    expect(prover.schedulable(more.session)).toBe(false);
    expect(coordinator.record(first.session.id)).toMatchObject({ capacityPassed: 1, capacityFailures: 1 });
  });

  it("fails a wrong product and a late one, and counts both against the node", () => {
    const wrong = testNode("op", false, { throughput: 10 });
    prover.tick([wrong.session]);
    answer(wrong, 100, new Float64Array(N * N));
    expect(prover.schedulable(wrong.session)).toBe(false);
    const late = testNode("op", false, { throughput: 10 });
    prover.tick([late.session]);
    clock += 60_000;
    prover.tick([late.session]);
    expect(prover.schedulable(late.session)).toBe(false);
    expect(coordinator.record(wrong.session.id).capacityFailures).toBe(1);
    expect(coordinator.record(late.session.id).capacityFailures).toBe(1);
  });
});
