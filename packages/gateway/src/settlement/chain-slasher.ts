// Slashing on chain from the gateway: when an audit ends in a slash, the provider's signed Result
// and two verifiers' signed Verdicts against it go to Slashing.slashProvider from the gateway's
// own account. Each slash is a row (chain_slashes) that a single loop submits, retries on
// failure with backoff (core's afterSubmitFailure) and finishes with the tx and the contract's
// outcome, mirrored in the local ledger under the ProviderSlashed log's id. Nothing here throws
// into the gateway; the contract uses evidence once, and the loop sends one slash at a time.
import {
  type Clients,
  type Deployment,
  decodeRevert,
  resultEvidenceHash,
  type SlashEvidence,
  SlashingAbi,
  submitDispute,
  submitSlash,
} from "@tessera/chain";
import {
  afterSubmitFailure,
  type ChainSlashState,
  chainEventId,
  chainSlashEvent,
  dueForSubmit,
  type JobRecord,
  pickSlashEvidence,
} from "@tessera/core";
import type { ChainSlashRow, Store } from "@tessera/store";
import type { Logger } from "pino";
import type { GroupWriter } from "../engine/writer.js";

export interface ChainSlasherDeps {
  store: Store;
  writer: Pick<GroupWriter, "write">;
  clients: Clients;
  deployment: Deployment;
  log: Logger;
  /** the contract took `taken` from the provider's stake */
  onSlashed?: (providerId: string, taken: bigint) => void;
  /** runs each transaction of the gateway's account alone, so two never take the same nonce */
  exclusive?: <T>(f: () => Promise<T>) => Promise<T>;
  now?: () => number;
}

interface Outcome {
  tx: string;
  logIndex: number;
  taken: bigint;
  refund: bigint;
  reward: bigint;
}

export class ChainSlasher {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** first verdicts against a result whose dispute is still to be opened (best effort, memory only) */
  private readonly disputes = new Map<string, { job: JobRecord; verifierId: string; state: ChainSlashState }>();

  private readonly exclusive: <T>(f: () => Promise<T>) => Promise<T>;

  constructor(private readonly d: ChainSlasherDeps) {
    this.now = d.now ?? Date.now;
    this.exclusive = d.exclusive ?? ((f) => f());
  }

  /**
   * The first verdict against a signed result: Slashing.openDispute freezes the provider's stake
   * (no withdrawal) while the second verifier works. Sent by the same loop as slashes, before the
   * slash of the same audit, and retried like one; once the slash is in, a dispute has no purpose.
   */
  dispute(auditId: string, job: JobRecord, verifierId: string): void {
    if (this.disputes.has(auditId)) return;
    this.disputes.set(auditId, { job, verifierId, state: { status: "pending", attempts: 0, nextAt: 0, error: null } });
    this.kick();
  }

  private async submitDispute(auditId: string): Promise<void> {
    const d = this.disputes.get(auditId);
    if (!d) return;
    const { job, verifierId } = d;
    const log = this.d.log.child({ jobId: job.id, attempt: job.attempt, providerId: job.providerId, auditId });
    const r = await this.d.store.chain.result(job.id, job.attempt);
    const v = (await this.d.store.chain.verdicts(auditId)).find((x) => x.verifierId === verifierId && !x.valid);
    if (!r || !v) return void this.disputes.delete(auditId);
    try {
      const tx = await this.exclusive(() =>
        submitDispute(this.d.clients, this.d.deployment.slashing, {
          result: {
            jobId: r.jobId,
            attempt: r.attempt,
            outputHash: r.outputHash,
            standardUnits: r.standardUnits,
            consumer: r.consumerAddress,
            cost: r.cost,
          },
          providerSignature: r.signature,
          verdict: { valid: v.valid, issuedAt: v.issuedAt, signature: v.signature },
        }),
      );
      this.disputes.delete(auditId);
      log.info({ tx, verifierId }, "dispute opened on chain: the provider's stake is frozen");
    } catch (err) {
      const revert = decodeRevert(err)?.name;
      const message = ((err as Error).message ?? String(err)).split("\n")[0] ?? "";
      d.state = afterSubmitFailure(d.state, revert, message, this.now());
      if (d.state.status !== "pending") this.disputes.delete(auditId);
      log.warn({ revert, err: message, status: d.state.status }, "dispute not opened");
    }
  }

  start(pollMs: number): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.kick();
        tick();
      }, pollMs);
      this.timer.unref();
    };
    tick();
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The audit of `job` decided a slash: record it for submission (once per audit). */
  async enqueue(auditId: string, job: JobRecord): Promise<void> {
    if (await this.d.store.chain.slash(auditId)) return;
    const evidence = await this.d.store.chain.result(job.id, job.attempt);
    const now = this.now();
    await this.d.store.chain.putSlash({
      auditId,
      jobId: job.id,
      attempt: job.attempt,
      providerId: job.providerId ?? "",
      consumerId: job.consumerId,
      providerAddress: evidence?.providerAddress ?? "",
      status: evidence ? "pending" : "failed",
      attempts: 0,
      nextAt: now,
      error: evidence ? null : "no signed EIP-712 result for this job (provider without an eth key?)",
      tx: null,
      taken: null,
      refund: null,
      reward: null,
      createdAt: now,
      updatedAt: now,
    });
    this.kick();
  }

  /** Runs one pass over due slashes; a pass already running runs once more after it. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err) => this.d.log.error({ err }, "chain slash pass failed; retrying"))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits until no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(): Promise<void> {
    const now = this.now();
    const slashes = await this.d.store.chain.pendingSlashes();
    for (const [auditId, d] of this.disputes)
      if (dueForSubmit(d.state, now) && !slashes.some((s) => s.auditId === auditId)) await this.submitDispute(auditId);
    for (const row of slashes) {
      if (!dueForSubmit(row, now)) continue;
      // a dispute still owed for this audit goes first: after the slash the contract refuses it
      if (this.disputes.has(row.auditId)) await this.submitDispute(row.auditId);
      await this.submit(row);
    }
  }

  private async evidence(row: ChainSlashRow): Promise<SlashEvidence | string> {
    const r = await this.d.store.chain.result(row.jobId, row.attempt);
    if (!r) return "no signed EIP-712 result";
    const pick = pickSlashEvidence(await this.d.store.chain.verdicts(row.auditId), r.providerAddress);
    if (!pick.ok) return pick.reason;
    const [a, b] = pick.verdicts;
    return {
      result: {
        jobId: r.jobId,
        attempt: r.attempt,
        outputHash: r.outputHash,
        standardUnits: r.standardUnits,
        consumer: r.consumerAddress,
        cost: r.cost,
      },
      providerSignature: r.signature,
      verdicts: [
        { valid: a.valid, issuedAt: a.issuedAt, signature: a.signature },
        { valid: b.valid, issuedAt: b.issuedAt, signature: b.signature },
      ],
    };
  }

  private async submit(row: ChainSlashRow): Promise<void> {
    const log = this.d.log.child({
      jobId: row.jobId,
      attempt: row.attempt,
      providerId: row.providerId,
      auditId: row.auditId,
    });
    const evidence = await this.evidence(row);
    if (typeof evidence === "string") {
      await this.save(row, { status: "failed", attempts: row.attempts, nextAt: row.nextAt, error: evidence });
      log.error({ reason: evidence }, "no slashing evidence to submit");
      return;
    }
    let outcome: Outcome | undefined;
    let state: ChainSlashState;
    try {
      outcome = await this.exclusive(() => submitSlash(this.d.clients, this.d.deployment.slashing, evidence));
      state = { status: "slashed", attempts: row.attempts + 1, nextAt: row.nextAt, error: null };
    } catch (err) {
      const revert = decodeRevert(err)?.name;
      const message = ((err as Error).message ?? String(err)).split("\n")[0] ?? "";
      state = afterSubmitFailure(row, revert, message, this.now());
      // used evidence: a submission whose receipt was lost already slashed on it; find the outcome
      if (state.status === "used") outcome = await this.findOutcome(evidence);
      if (state.status === "pending")
        log.warn(
          { revert, err: message, attempts: state.attempts, retryInMs: state.nextAt - this.now() },
          "slash submission failed; will retry",
        );
      else if (state.status === "failed") log.error({ revert, err: message }, "slash refused on chain; giving up");
    }
    // mirrored before the row is saved: a crash in between leaves it pending, the next submission
    // answers EvidenceUsed, the outcome is found again and its posting, keyed by the log, is a no-op
    if (outcome) await this.mirror(row, outcome, log);
    await this.save(row, state, outcome);
  }

  /** The ProviderSlashed log of this evidence's result, if the contract slashed on it before. */
  private async findOutcome(e: SlashEvidence): Promise<Outcome | undefined> {
    const logs = await this.d.clients.public.getContractEvents({
      address: this.d.deployment.slashing,
      abi: SlashingAbi,
      eventName: "ProviderSlashed",
      args: { result: resultEvidenceHash(e.result) },
      fromBlock: 0n,
    });
    const l = logs[0];
    if (!l) return undefined;
    return {
      tx: l.transactionHash,
      logIndex: l.logIndex,
      taken: l.args.amount ?? 0n,
      refund: l.args.refund ?? 0n,
      reward: l.args.reward ?? 0n,
    };
  }

  /** The contract's outcome in the local ledger, keyed by the ProviderSlashed log: posted once. */
  private async mirror(row: ChainSlashRow, o: Outcome, log: Logger): Promise<void> {
    const id = chainEventId(this.d.deployment.chainId, o.tx, o.logIndex);
    const r = await this.d.writer.write({
      ledger: chainSlashEvent({ id, jobId: row.jobId, consumerId: row.consumerId, refund: o.refund, at: this.now() }),
    });
    if (!r.ok) throw r.error;
    if (!r.ledgerApplied) return;
    this.d.onSlashed?.(row.providerId, o.taken);
    log.warn(
      { tx: o.tx, taken: o.taken.toString(), refund: o.refund.toString(), reward: o.reward.toString() },
      "provider slashed on chain",
    );
  }

  private async save(row: ChainSlashRow, s: ChainSlashState, o?: Outcome): Promise<void> {
    const next: ChainSlashRow = {
      ...row,
      ...s,
      updatedAt: this.now(),
      ...(o ? { tx: o.tx, taken: o.taken, refund: o.refund, reward: o.reward } : {}),
    };
    Object.assign(row, next);
    await this.d.store.chain.putSlash(next);
  }
}
