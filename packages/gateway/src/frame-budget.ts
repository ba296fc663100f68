// The budget a provider connection spends on the frames it sends once its hello is through
// (channel.ts): a token bucket that grows with the work the gateway has handed the node.
import { MAX_FRAME_BYTES } from "@tessera/protocol";

/**
 * What a provider connection may send once its hello is through, in credits: a frame costs 1, and
 * 1 more per 16 KiB (parsing it is what costs the gateway) and per 16 jobs a heartbeat lists; an
 * invalid frame costs 20, as each is answered. Credits refill at `baseRate`, plus `perLeaseRate`
 * for each lease (or audit) the node holds, since every streamed token is a chunk frame of its
 * own; each lease, audit or capacity challenge sent also grants the cost of the largest frame, so
 * its reply is always paid for. So a node is held to the work it was given, not to the concurrency
 * it claims. Measured through a proxy (tiny model, two busy CPU cores, heartbeat 500 ms): an honest
 * node at concurrency 8 sent 230 frames/s, at most 681 in a second; one stream under 300 chunks/s.
 */
export const FRAME_BUDGET = {
  baseRate: 200,
  /** twice the largest frame, so a frame of any size gets through a fresh connection */
  baseBurst: 2 * (1 + MAX_FRAME_BYTES / (16 * 1024)),
  perLeaseRate: 2_000,
  bytesPerCredit: 16 * 1024,
  entriesPerCredit: 16,
  invalidCost: 20,
};
export type FrameBudgetLimits = typeof FRAME_BUDGET;

/** A token bucket whose rate and size grow with the leases the connection holds. */
export class FrameBudget {
  private credits: number;
  private at: number;
  /** leases and audits handed to this node, with when each was last sent or seen in a heartbeat */
  private readonly held = new Map<string, number>();
  private readonly largestFrame: number;

  /** `holding`: leases the node holds already (from before a reconnect), until heartbeats name them */
  constructor(
    private readonly maxHeld: number,
    holding = 0,
    private readonly limits: FrameBudgetLimits = FRAME_BUDGET,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now();
    this.largestFrame = 1 + MAX_FRAME_BYTES / limits.bytesPerCredit;
    for (let i = 0; i < holding; i++) this.held.set(`before:${i}`, this.at);
    this.credits = this.capacity();
  }

  /** What a valid frame of `bytes` costs; `entries` for a heartbeat. */
  cost(bytes: number, entries = 0): number {
    return 1 + bytes / this.limits.bytesPerCredit + entries / this.limits.entriesPerCredit;
  }

  invalidCost(bytes: number): number {
    return this.limits.invalidCost + bytes / this.limits.bytesPerCredit;
  }

  /** The gateway sent work (a lease, an audit, a challenge): its reply is paid for in advance. */
  sent(key: string): void {
    this.refill();
    if (!this.held.has(key)) this.credits += this.largestFrame;
    this.held.set(key, this.now());
    this.credits = Math.min(this.credits, this.capacity());
  }

  /** A heartbeat named these leases (checked as this node's); others not named for `staleMs` lapse. */
  confirm(keys: string[], staleMs: number): void {
    this.refill();
    const now = this.now();
    for (const k of keys) this.held.set(k, now);
    for (const [k, at] of this.held) if (now - at > staleMs) this.held.delete(k);
  }

  /** Takes `cost`, or answers false when the connection has not that much left. */
  spend(cost: number): boolean {
    this.refill();
    if (cost > this.credits) return false;
    this.credits -= cost;
    return true;
  }

  private holding(): number {
    return Math.min(this.held.size, this.maxHeld);
  }

  private capacity(): number {
    return this.limits.baseBurst + this.holding() * (this.largestFrame + this.limits.perLeaseRate);
  }

  private refill(): void {
    const now = this.now();
    const rate = this.limits.baseRate + this.holding() * this.limits.perLeaseRate;
    this.credits = Math.min(this.capacity(), this.credits + (Math.max(0, now - this.at) / 1000) * rate);
    this.at = now;
  }
}
