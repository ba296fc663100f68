// Nodes' stake in ProviderRegistry, read through one cache: the scheduler's 500 ms refresh of
// connected nodes fills it, and the explorer reads it, so a page of providers costs no RPC call.
// Under --chain-confirmations n stake is read at head − n, as the chain mirror reads money: a bond
// (or an unbond or slash) counts only once its block is n deep, so a shallower reorg cannot make
// the gateway trust stake that the chain then forgets.
// Keys are lower-case addresses rather than viem's checksums: the explorer imports this module on
// every gateway, and a local-ledger gateway should not load viem for it.
import type { NodeStake } from "@tessera/chain";
import { confirmedHead, type ReadAt } from "./confirmed.js";

export interface RegistryStakesDeps {
  /** one ProviderRegistry.nodeOf read as of block `at` */
  read(address: `0x${string}`, at: ReadAt): Promise<NodeStake>;
  /** the chain head's block number; asked for only when `confirmations` > 0 */
  head?(): Promise<bigint>;
  /** --chain-confirmations: stake is read at head − this (0 or absent: at the head, `latest`) */
  confirmations?: number;
  /** entries younger than this are served without a read */
  ttlMs: number;
  /** reads in flight at once, however many addresses are asked for */
  concurrency?: number;
  /** addresses remembered; the oldest are forgotten first */
  maxEntries?: number;
  now?: () => number;
}

const NONE: NodeStake = { registered: false, bonded: 0n, unbonding: 0n, unbondReadyAt: 0, frozenUntil: 0 };

export class RegistryStakes {
  private readonly entries = new Map<string, { at: number; stake: NodeStake }>();
  private readonly inFlight = new Map<string, Promise<NodeStake>>();
  /** one head read shared by the reads that start while it is under way */
  private headRead: Promise<bigint> | undefined;
  private readonly now: () => number;

  constructor(private readonly deps: RegistryStakesDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Reads now (the scheduler needs the latest confirmed bond) and remembers the answer for the
   * explorer. While the chain is shorter than the confirmations nothing is confirmed: no stake.
   */
  fresh(address: string | undefined): Promise<NodeStake> {
    if (!address) return Promise.resolve(NONE);
    const a = normalized(address);
    if (!a) return Promise.reject(new Error(`not an address: ${address}`));
    const pending = this.inFlight.get(a);
    if (pending) return pending;
    const read = this.readAt()
      .then((at) => (at === undefined ? NONE : this.deps.read(a, at)))
      .then((stake) => {
        this.remember(a, stake);
        return stake;
      })
      .finally(() => this.inFlight.delete(a));
    this.inFlight.set(a, read);
    return read;
  }

  /**
   * Stakes of many addresses: cached ones younger than ttlMs as they are, the rest read at most
   * `concurrency` at a time. A failed read answers the last known stake (or none) rather than fail
   * a whole page.
   */
  async many(addresses: readonly (string | undefined)[]): Promise<Map<string, NodeStake>> {
    const out = new Map<string, NodeStake>();
    const stale: `0x${string}`[] = [];
    // one read per address however it is spelt (case differs between capabilities and checksums)
    for (const a of new Set(addresses.map(normalized))) {
      if (!a) continue;
      const e = this.entries.get(a);
      if (e) out.set(a, e.stake);
      if (!e || this.now() - e.at > this.deps.ttlMs) stale.push(a);
    }
    let next = 0;
    const worker = async () => {
      while (next < stale.length) {
        const a = stale[next++] as `0x${string}`;
        try {
          out.set(a, await this.fresh(a));
        } catch {
          if (!out.has(a)) out.set(a, NONE);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 8, stale.length) }, worker));
    return out;
  }

  /** The block reads act on: `latest` without confirmations, else head − n (undefined while none is that deep). */
  private async readAt(): Promise<ReadAt | undefined> {
    const n = this.deps.confirmations ?? 0;
    if (n === 0) return "latest";
    if (!this.deps.head) throw new Error("RegistryStakes: confirmations need a head() read");
    if (!this.headRead) {
      const head = this.deps.head().finally(() => {
        if (this.headRead === head) this.headRead = undefined;
      });
      this.headRead = head;
    }
    return confirmedHead(await this.headRead, n);
  }

  private remember(a: string, stake: NodeStake): void {
    this.entries.delete(a);
    this.entries.set(a, { at: this.now(), stake });
    const max = this.deps.maxEntries ?? 10_000;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(oldest);
    }
  }
}

function normalized(x: string | undefined): `0x${string}` | undefined {
  return x && /^0x[0-9a-fA-F]{40}$/.test(x) ? (x.toLowerCase() as `0x${string}`) : undefined;
}

/** The stake of an address as `many` answered it (none when it has no eth address). */
export function stakeIn(stakes: Map<string, NodeStake>, address: string | undefined): NodeStake {
  const a = normalized(address);
  return (a && stakes.get(a)) || NONE;
}
