// Proof of capacity, the gateway's side: when a node joins and then at random times (exponential
// gaps, mean `intervalMs`), it gets two seeded random matrices to multiply before a deadline. The
// product is checked with core's Freivalds check; the round trip gives its proven throughput in
// standard units per second. A node is scheduled only while its last proof passed and came back
// within slack × the time its claim implies (plus a round-trip allowance), and only for the
// throughput it claimed then: a node back with a higher claim is challenged again before it is
// scheduled. Failures count against its reputation.
import { randomBytes, randomInt } from "node:crypto";
import { capacityDeadlineMs, capacityShown, freivaldsCheck, provenThroughput, randomMatrix } from "@tessera/core";
import type { CapacityChallengeMessage, CapacityProofMessage } from "@tessera/protocol";
import type { Logger } from "pino";
import { z } from "zod";
import type { ProviderSession } from "../engine/sessions.js";
import type { VerificationCoordinator } from "./coordinator.js";

export const CapacityConfigSchema = z
  .object({
    /** require a passing proof before scheduling (false: challenges still run and count) */
    required: z.boolean().default(true),
    /** matrix size of a challenge: large enough that the product, not the round trip, dominates */
    n: z.number().int().min(8).max(2048).default(320),
    /** mean gap between random re-challenges of a node */
    intervalMs: z
      .number()
      .int()
      .min(1000)
      .default(10 * 60_000),
    /** deadline = slack × the time the claimed throughput needs (at least floorMs); shown = answered
     * within slack × that time + allowanceMs (the round trip's own cost) */
    slack: z.number().min(1).max(1000).default(8),
    allowanceMs: z.number().int().min(0).max(60_000).default(150),
    floorMs: z.number().int().min(100).default(5_000),
    /** after a failure, the next challenge comes this soon */
    retryMs: z.number().int().min(100).default(15_000),
  })
  .strict();
export type CapacityConfig = z.infer<typeof CapacityConfigSchema>;

interface Outstanding {
  id: string;
  n: number;
  seedA: number;
  seedB: number;
  sentAt: number;
  deadlineMs: number;
}

export class CapacityProver {
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly nextAt = new Map<string, number>();
  /** the throughput the node's latest proof showed its claim of, 0 when it failed (memory: re-proven after a restart) */
  private readonly shown = new Map<string, number>();

  constructor(
    private readonly coordinator: VerificationCoordinator,
    private readonly config: CapacityConfig,
    private readonly log: Logger,
    // seeds and Freivalds' vectors a node cannot predict
    private readonly random: () => number = () => randomInt(2 ** 48 - 1) / 2 ** 48,
    private readonly now: () => number = Date.now,
  ) {}

  schedulable(s: ProviderSession): boolean {
    return !this.config.required || this.showsClaim(s);
  }

  /** A proof passed for this claim or a higher one: a node reconnecting with a higher claim has to show it. */
  private showsClaim(s: ProviderSession): boolean {
    const shown = this.shown.get(s.id);
    return shown !== undefined && shown > 0 && s.capabilities.throughput <= shown;
  }

  /** Challenges nodes that are due (new ones at once) and fails overdue challenges. */
  tick(sessions: Iterable<ProviderSession>): void {
    const now = this.now();
    for (const s of sessions) {
      if (!s.online) continue;
      const o = this.outstanding.get(s.id);
      if (o) {
        if (now - o.sentAt > o.deadlineMs) this.fail(s.id, "no proof before the deadline");
        continue;
      }
      // back with a higher claim than the one it showed: challenged now, not at its next draw
      const shown = this.shown.get(s.id) ?? 0;
      const claimedMore = shown > 0 && s.capabilities.throughput > shown;
      if (claimedMore || (this.nextAt.get(s.id) ?? 0) <= now) this.challenge(s, now);
    }
  }

  onProof(s: ProviderSession, msg: CapacityProofMessage): void {
    const o = this.outstanding.get(s.id);
    if (!o || o.id !== msg.challengeId) return;
    const elapsed = this.now() - o.sentAt;
    if (elapsed > o.deadlineMs) {
      this.fail(s.id, "proof after the deadline");
      return;
    }
    const bytes = Buffer.from(msg.product, "base64");
    if (bytes.length !== o.n * o.n * 8) {
      this.fail(s.id, "product of the wrong size");
      return;
    }
    const c = new Float64Array(o.n * o.n);
    for (let i = 0; i < c.length; i++) c[i] = bytes.readDoubleLE(i * 8);
    if (!freivaldsCheck(randomMatrix(o.n, o.seedA), randomMatrix(o.n, o.seedB), c, o.n, this.random)) {
      this.fail(s.id, "product is wrong");
      return;
    }
    const proven = provenThroughput(o.n, elapsed);
    const claimed = s.capabilities.throughput;
    this.coordinator.record(s.id).provenThroughput = proven;
    const ok = capacityShown(elapsed, o.n, claimed, this.config.slack, this.config.allowanceMs);
    if (!ok) {
      this.fail(s.id, `proof took ${elapsed} ms, too slow for the claimed ${claimed} units/s`);
      return;
    }
    this.outstanding.delete(s.id);
    this.coordinator.record(s.id).capacityPassed++;
    this.shown.set(s.id, claimed);
    this.nextAt.set(s.id, this.now() + this.gap());
    this.log.info({ providerId: s.id, elapsedMs: elapsed, proven, claimed }, "capacity proven");
  }

  private challenge(s: ProviderSession, now: number): void {
    const n = this.config.n;
    const o: Outstanding = {
      id: `cap_${randomBytes(8).toString("hex")}`,
      n,
      seedA: Math.floor(this.random() * 0xffffffff),
      seedB: Math.floor(this.random() * 0xffffffff),
      sentAt: now,
      deadlineMs: capacityDeadlineMs(n, s.capabilities.throughput, this.config.slack, this.config.floorMs),
    };
    this.outstanding.set(s.id, o);
    const msg: CapacityChallengeMessage = {
      type: "capacity_challenge",
      challengeId: o.id,
      n,
      seedA: o.seedA,
      seedB: o.seedB,
      deadlineMs: o.deadlineMs,
    };
    s.send(msg);
  }

  private fail(nodeId: string, reason: string): void {
    this.outstanding.delete(nodeId);
    this.coordinator.record(nodeId).capacityFailures++;
    this.shown.set(nodeId, 0);
    this.nextAt.set(nodeId, this.now() + this.config.retryMs);
    this.log.warn({ providerId: nodeId, reason }, "capacity challenge failed");
  }

  private gap(): number {
    return Math.round(-Math.log(1 - this.random()) * this.config.intervalMs);
  }
}
