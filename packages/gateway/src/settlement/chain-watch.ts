// Mirrors the Escrow contract into the local ledger by polling its logs: deposits to custodial
// addresses are credited to the consumer, redemptions debit the provider's earnings and the fee
// account. Every posting is keyed by the log (chain:<chainId>:<tx>:<index>), so a rescan after a
// restart, which starts again from block 0, posts nothing twice. Withdrawals from custodial
// addresses (withdrawals.ts) leave the consumer's available balance the same way.
// Under --chain-confirmations n only blocks at least n deep are mirrored (confirmed.ts): a deposit a
// reorg could still remove must not become credit to spend, nor a redemption a debit.
// A redemption whose mirror fails is logged, listed (unmirrored()) and retried on every poll, in
// order per consumer–provider pair, while the cursor moves on: one bad log must not stop the mirror.
import { type Deployment, EscrowAbi } from "@tessera/chain";
import { chainEventId, redemptionEvent, withdrawingAccount, withdrawnEvent } from "@tessera/core";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { PublicClient } from "viem";
import type { GroupWriter } from "../engine/writer.js";
import { confirmedHead } from "./confirmed.js";
import type { EvmSettlement } from "./evm.js";
import { PollLoop } from "./poll-loop.js";

export interface ChainWatchDeps {
  store: Store;
  writer: Pick<GroupWriter, "write">;
  client: PublicClient;
  deployment: Deployment;
  evm: EvmSettlement;
  log: Logger;
  /** how deep a block must be before it is mirrored (--chain-confirmations; 0: the head) */
  confirmations?: number;
  now?: () => number;
}

/** A Redeemed log the ledger could not mirror yet: retried on every poll until it posts. */
export interface UnmirroredRedemption {
  id: string;
  consumer: string;
  provider: string;
  cumulative: bigint;
  error: string;
  since: number;
}

export class ChainWatch {
  private next = 0n;
  /** failed redemption mirrors, oldest first; a rescan from block 0 after a restart finds them again */
  private readonly stuck = new Map<string, UnmirroredRedemption>();
  private readonly loop: PollLoop;

  constructor(private readonly d: ChainWatchDeps) {
    this.loop = new PollLoop(
      () => this.poll(),
      (err) => d.log.warn({ err }, "chain poll failed; retrying"),
    );
  }

  start(pollMs: number): void {
    this.loop.start(pollMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass over the confirmed blocks since the last: deposits first, then redemptions. */
  async poll(): Promise<void> {
    const head = confirmedHead(await this.d.client.getBlockNumber(), this.d.confirmations ?? 0);
    if (head === undefined || head < this.next) return this.mirrorRedemptions([...this.stuck.values()]);
    const range = { address: this.d.deployment.escrow, abi: EscrowAbi, fromBlock: this.next, toBlock: head } as const;
    const deposits = await this.d.client.getContractEvents({ ...range, eventName: "Deposited" });
    const seen = new Set<string>();
    for (const l of deposits) {
      const addr = l.args.consumer;
      if (!addr || seen.has(addr)) continue;
      seen.add(addr);
      const consumerId = await this.d.store.settlement.consumerOfAddress(addr);
      if (consumerId) await this.d.evm.creditDeposits(consumerId, addr, this.next, head);
      else this.d.log.debug({ address: addr }, "deposit to an address this gateway does not hold");
    }
    const redemptions = await this.d.client.getContractEvents({ ...range, eventName: "Redeemed" });
    const pending: Omit<UnmirroredRedemption, "error" | "since">[] = [...this.stuck.values()];
    for (const l of redemptions) {
      const { consumer, provider, cumulative } = l.args;
      if (!consumer || !provider || cumulative === undefined) continue;
      const id = chainEventId(this.d.deployment.chainId, l.transactionHash, l.logIndex);
      if (!this.stuck.has(id)) pending.push({ id, consumer, provider, cumulative });
    }
    await this.mirrorRedemptions(pending);
    const withdrawals = await this.d.client.getContractEvents({ ...range, eventName: "Withdrawn" });
    for (const l of withdrawals) {
      const { consumer, amount } = l.args;
      if (!consumer || !amount) continue;
      const consumerId = await this.d.store.settlement.consumerOfAddress(consumer);
      if (!consumerId) continue;
      const id = chainEventId(this.d.deployment.chainId, l.transactionHash, l.logIndex);
      const reserved = await this.d.store.balance(withdrawingAccount(consumerId));
      const r = await this.d.writer.write({
        ledger: withdrawnEvent(id, consumerId, amount, reserved, this.d.now?.() ?? Date.now()),
      });
      // only headroom is ever withdrawn, so this cannot overdraw; if it did, the rest of the chain
      // must still be mirrored, so it is reported rather than retried forever
      if (!r.ok) {
        this.d.log.error({ consumerId, amount: amount.toString(), err: r.error }, "withdrawal not mirrored");
        continue;
      }
      if (r.ledgerApplied)
        this.d.log.info(
          { consumerId, amount: amount.toString(), tx: l.transactionHash },
          "withdrawal mirrored from chain",
        );
    }
    this.next = head + 1n;
  }

  /** Redemptions the ledger has not mirrored yet (each also logged when it failed). */
  unmirrored(): UnmirroredRedemption[] {
    return [...this.stuck.values()];
  }

  /**
   * Mirrors each redemption; one that fails is kept for the next poll instead of stopping the rest.
   * A pair's later redemptions wait behind its failed one: each posts the difference from the one
   * marked redeemed before it, so mirroring them out of order would debit the same money twice.
   */
  private async mirrorRedemptions(items: Omit<UnmirroredRedemption, "error" | "since">[]): Promise<void> {
    const blocked = new Set<string>();
    for (const it of items) {
      const pair = `${it.consumer.toLowerCase()}:${it.provider.toLowerCase()}`;
      const prior = this.stuck.get(it.id);
      let error: string | undefined;
      if (blocked.has(pair)) error = prior?.error ?? "an earlier redemption of this pair is not mirrored yet";
      else {
        try {
          await this.mirrorRedemption(it.consumer, it.provider, it.cumulative, it.id);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      if (error === undefined) {
        if (prior) this.d.log.info({ id: it.id }, "redemption mirrored after an earlier failure");
        this.stuck.delete(it.id);
        continue;
      }
      blocked.add(pair);
      if (!prior) {
        this.d.log.error(
          { id: it.id, consumer: it.consumer, provider: it.provider, cumulative: it.cumulative.toString(), error },
          "redemption not mirrored; retrying on every poll",
        );
        this.stuck.set(it.id, { ...it, error, since: this.d.now?.() ?? Date.now() });
      }
    }
  }

  private async mirrorRedemption(consumer: string, provider: string, cumulative: bigint, id: string): Promise<void> {
    const s = this.d.store.settlement;
    const v = await s.voucherByAddresses(consumer, provider, cumulative);
    if (!v) {
      this.d.log.warn(
        { consumer, provider, cumulative: cumulative.toString() },
        "redemption of a voucher this gateway did not sign",
      );
      return;
    }
    const prev = await s.redeemedBefore(v.consumerId, v.providerId, cumulative);
    const ev = redemptionEvent({
      id,
      providerId: v.providerId,
      voucher: v,
      previous: prev ?? { cumulative: 0n, net: 0n },
      at: this.d.now?.() ?? Date.now(),
    });
    const r = await this.d.writer.write({ ledger: ev });
    if (!r.ok) throw r.error;
    await s.markRedeemed(v.consumerId, v.providerId, cumulative);
    if (r.ledgerApplied)
      this.d.log.info(
        { providerId: v.providerId, consumerId: v.consumerId, cumulative: cumulative.toString() },
        "redemption mirrored from chain",
      );
  }
}
