// Provider stake: what the scheduler holds against --min-stake and a verifier against the chain's
// verifier minimum; deposits, unbonding (paid out after its delay, slashable until then), and the
// part a slash takes. On the local ledger it lives in each node's stake accounts; under on-chain
// settlement it is read from ProviderRegistry. Moves of one node's stake read its accounts and post
// from them, so they run one at a time per node: two slashes decided together must not both read
// the same stake.
import {
  BURNED,
  type JobRecord,
  type LedgerEvent,
  releaseEvent,
  slashAmount,
  slashEvent,
  stakeAccounts,
  stakeDepositEvent,
  unbondEvent,
  unbondingReleasable,
  verifierSlashEvent,
} from "@tessera/core";
import { IdempotencyConflict } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import { repeatsStoredEvent } from "../engine/replayed-event.js";
import type { ProviderSession } from "../engine/sessions.js";
import type { GroupWriter } from "../engine/writer.js";
import { KeyedSerial } from "../keyed-serial.js";
import type { ChainVerification } from "./chain.js";
import type { VerificationConfig } from "./config.js";

export interface StakeBookDeps {
  store: Store;
  writer: GroupWriter;
  sessions: () => Iterable<ProviderSession>;
  config: Pick<VerificationConfig, "policy" | "rewardBps" | "unbondingMs">;
  now: () => number;
  /** under on-chain settlement, where stake is read from */
  chain: () => ChainVerification | undefined;
}

export class StakeBook {
  private readonly stakes = new Map<string, bigint>();
  private readonly moves = new KeyedSerial();

  constructor(private readonly deps: StakeBookDeps) {}

  staked(nodeId: string): bigint {
    return this.stakes.get(nodeId) ?? 0n;
  }

  /**
   * Loads a node's stake (at connect, and after anything that moves it): from the ledger, or under
   * on-chain settlement the bonded stake of the eth address it advertises in ProviderRegistry.
   */
  async refresh(nodeId: string): Promise<bigint> {
    const chain = this.deps.chain();
    const s = chain
      ? await chain.stakeOf(
          [...this.deps.sessions()].find((x) => x.id === nodeId)?.capabilities.ethAddress ??
            (await this.deps.store.getProvider(nodeId))?.capabilities.ethAddress,
        )
      : await this.deps.store.balance(stakeAccounts.stake(nodeId));
    this.stakes.set(nodeId, s);
    return s;
  }

  /** Adds stake. `applied` is false for a resent request: this id's deposit was posted before. */
  async deposit(nodeId: string, amount: bigint, id: string): Promise<{ staked: bigint; applied: boolean }> {
    const applied = await this.postOnce(stakeDepositEvent(`stake:${id}`, nodeId, amount, this.deps.now()), id);
    return { staked: await this.refresh(nodeId), applied };
  }

  /**
   * Moves stake to unbonding; it is paid out after unbondingMs and stays slashable until then. A
   * resent request keeps the first one's release time.
   */
  async unbond(nodeId: string, amount: bigint, id: string): Promise<{ releaseAt: number; applied: boolean }> {
    const now = this.deps.now();
    const applied = await this.moves.run(nodeId, () =>
      this.postOnce(unbondEvent(`unbond:${id}`, nodeId, amount, now), id),
    );
    // written on a resend too: a crash between the posting and this record would leave it missing
    const u = await this.deps.store.verification.addUnbonding({
      id,
      providerId: nodeId,
      amount,
      releaseAt: now + this.deps.config.unbondingMs,
      released: false,
    });
    await this.refresh(nodeId);
    return { releaseAt: u.releaseAt, applied };
  }

  /**
   * Pays out unbondings whose period has passed (what a slash left of them), except a provider's
   * while an audit of its results is undecided (core's unbondingReleasable): that stake is still
   * what the audit's slash would take.
   */
  async releaseDue(): Promise<void> {
    const now = this.deps.now();
    const due = await this.deps.store.verification.dueUnbondings(now);
    if (due.length === 0) return;
    const audits = await this.deps.store.verification.auditCounts([...new Set(due.map((u) => u.providerId))]);
    for (const u of due) {
      if (!unbondingReleasable(u.releaseAt, now, audits.get(u.providerId)?.pending ?? 0)) continue;
      await this.moves.run(u.providerId, async () => {
        const left = await this.deps.store.balance(stakeAccounts.unbonding(u.providerId));
        const amount = u.amount < left ? u.amount : left;
        await this.post(releaseEvent(`release:${u.id}`, u.providerId, amount, this.deps.now()));
      });
      await this.deps.store.verification.markUnbondingReleased(u.id);
    }
  }

  /**
   * Slashes the provider of a job whose result two verifiers refuted: refund, rewards to the
   * reporters, the rest burned (core's slashEvent). What it took; 0 for a slash replayed after a
   * restart, whose event was applied before.
   */
  async slash(job: JobRecord, reporters: string[]): Promise<bigint> {
    const providerId = job.providerId as string;
    const amount = await this.moves.run(providerId, async () => {
      const [staked, unbonding] = await Promise.all([
        this.deps.store.balance(stakeAccounts.stake(providerId)),
        this.deps.store.balance(stakeAccounts.unbonding(providerId)),
      ]);
      const cost = job.cost ?? 0n;
      const amount = slashAmount(this.deps.config.policy, cost, staked + unbonding);
      const ev = slashEvent({
        jobId: job.id,
        providerId,
        consumerId: job.consumerId,
        cost,
        amount,
        staked,
        unbonding,
        reporters,
        rewardBps: this.deps.config.rewardBps,
        at: this.deps.now(),
      });
      const r = await this.deps.writer.write({ ledger: ev });
      if (!r.ok) throw r.error;
      return r.ledgerApplied ? amount : 0n;
    });
    await this.refresh(providerId);
    return amount;
  }

  /**
   * Burns up to `penalty` of a verifier's stake and unbonding: a canary audit caught its verdict.
   * What it took; 0 for a slash replayed after a restart.
   */
  async slashVerifier(auditId: string, jobId: string, verifierId: string, penalty: bigint): Promise<bigint> {
    const amount = await this.moves.run(verifierId, async () => {
      const [staked, unbonding] = await Promise.all([
        this.deps.store.balance(stakeAccounts.stake(verifierId)),
        this.deps.store.balance(stakeAccounts.unbonding(verifierId)),
      ]);
      const ev = verifierSlashEvent({
        auditId,
        jobId,
        verifierId,
        amount: penalty,
        staked,
        unbonding,
        at: this.deps.now(),
      });
      const r = await this.deps.writer.write({ ledger: ev });
      if (!r.ok) throw r.error;
      return r.ledgerApplied ? ev.transfers.reduce((sum, t) => (t.to === BURNED ? sum + t.amount : sum), 0n) : 0n;
    });
    await this.refresh(verifierId);
    return amount;
  }

  private async post(ev: LedgerEvent): Promise<void> {
    const r = await this.deps.writer.write({ ledger: ev });
    if (!r.ok) throw r.error;
  }

  /** Posts an operator's event; the same id again is a no-op if it repeats it, else a conflict. */
  private async postOnce(ev: LedgerEvent, requestId: string): Promise<boolean> {
    const r = await this.deps.writer.write({ ledger: ev });
    if (!r.ok) throw r.error;
    if (!r.ledgerApplied && !(await repeatsStoredEvent(this.deps.store, ev)))
      throw new IdempotencyConflict(requestId, "id");
    return r.ledgerApplied;
  }
}
