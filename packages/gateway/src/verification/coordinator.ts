// The gateway's verification shell: after a job settles it draws an audit (core's policy), sends
// the result to a verifier of another operator, collects signed verdicts, escalates per core's
// decideAudit, and on two verdicts against the provider slashes its stake (refund, rewards, burn)
// and excludes it (stake itself: stakes.ts). Also keeps the per-node verification record.
import { randomBytes } from "node:crypto";
import {
  type AuditOutcome,
  type AuditRecord,
  auditFeeEvent,
  auditProbabilityWithReputation,
  blockedByOwnOperator,
  type CastVerdict,
  chainAuditFeeEvent,
  decideAudit,
  dissenters,
  drawPassRecheck,
  endedOnResult,
  feeOf,
  type JobRecord,
  majorityVouched,
  maxJobCost,
  nodeReputation,
} from "@tessera/core";
import { type AuditMessage, type VerdictMessage, verifyVerdictSignature } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { ProviderSession } from "../engine/sessions.js";
import type { GroupWriter } from "../engine/writer.js";
import type { ChainVerification } from "./chain.js";
import type { VerificationConfig } from "./config.js";
import { ParkedAudits } from "./parked-audits.js";
import { newNodeRecord, RecordPersistence, reputationInput } from "./records.js";
import { StakeBook } from "./stakes.js";

/** Audits in flight in memory at most; more wait in the store (parked-audits.ts). */
const MAX_LIVE_AUDITS = 256;
/** An offline node's seen time is written once it grew by this much, or by a twentieth if more. */
const OFFLINE_SEEN_WRITE_MS = 60_000;

export interface NodeRecord extends AuditRecord {
  auditsPassed: number;
  auditsFailed: number;
  verdictsGiven: number;
  verifierStrikes: number;
  slashed: bigint;
  excluded: boolean;
  /** canary jobs answered right / wrong (providers) and canary audits judged right / wrong (verifiers) */
  canariesPassed: number;
  canariesFailed: number;
  /** of those judged right: known-good passed, known-wrong failed (what vouches its majorities) */
  goodCanariesPassed: number;
  wrongCanariesFailed: number;
  /** proof of capacity: challenges answered right / wrong or late, and the throughput shown */
  capacityPassed: number;
  capacityFailures: number;
  provenThroughput: number | null;
  /** ms online and ms known since first seen, for uptime */
  onlineMs: number;
  seenMs: number;
}

interface PendingAudit {
  id: string;
  job: JobRecord;
  verdicts: CastVerdict[];
  asked: string[];
  /**
   * verifiers whose verdict, conclusive or not, was taken: one each. `verdicts` holds only the
   * conclusive ones, so it cannot tell that an inconclusive one was resent (each resend would ask
   * another verifier until none was left) or followed by a conclusive one the store never keeps.
   */
  answered: Set<string>;
  kind: "sampled" | "canary";
  timer?: NodeJS.Timeout;
  /** a single pass was sent to a second verifier all the same (spot re-check) */
  recheck?: boolean;
  /** on-chain settlement: the provider's signed Result, for verifiers to sign Verdicts on */
  evidence?: AuditMessage["evidence"];
  /**
   * the provider's operator, read when the audit is drawn or taken up: once the provider has
   * disconnected its session is gone, and its own operator's verifiers must still not audit it
   */
  operator?: string;
}

/** Verdicts against a decided audit's outcome, kept until its majority is vouched for. */
interface Dissent {
  auditId: string;
  verdicts: CastVerdict[];
  outcome: Exclude<AuditOutcome, { kind: "next_verifier" }>;
  against: string[];
}
/** dissents kept waiting for their majority's canaries */
const MAX_UNVOUCHED = 1024;

/** An audit with no verifier asked yet. */
function newAudit(id: string, job: JobRecord, kind: PendingAudit["kind"], operator?: string): PendingAudit {
  return {
    id,
    job,
    verdicts: [],
    asked: [],
    answered: new Set(),
    kind,
    ...(operator === undefined ? {} : { operator }),
  };
}

export interface CoordinatorDeps {
  store: Store;
  writer: GroupWriter;
  sessions: () => Iterable<ProviderSession>;
  config: VerificationConfig;
  log: Logger;
  random?: () => number;
  now?: () => number;
  /** an audit passed: the result is now trusted (canaries.ts makes known answers of it) */
  onPassed?: (job: JobRecord, verifiers: string[], providerOperator: string) => void;
  /** a verifier failed a real result (a conclusive verdict): canaries.ts may test it with a known-good one */
  onFailed?: (verifierId: string) => void;
  /** a provider became schedulable or stopped being so for a reason other than stake (the engine re-schedules) */
  onEligibilityChanged?: () => void;
}

export class VerificationCoordinator {
  private readonly records = new Map<string, NodeRecord>();
  private readonly pending = new Map<string, PendingAudit>();
  /**
   * audits being finished: out of `pending` but their store row not yet marked decided, so
   * resumeParked must not take that still-'pending' row up and decide the audit a second time
   */
  private readonly finishing = new Set<string>();
  /**
   * canary audits the canary service stored as pending (a known-good canary job's, so that the public
   * record shows it as any first audit): not the coordinator's to take up
   */
  private readonly canaryOwned = new Set<string>();
  /** what resumeParked skips in the store: audits in flight here, and the canary service's */
  private readonly inMemory = {
    has: (id: string) => this.pending.has(id) || this.finishing.has(id) || this.canaryOwned.has(id),
  };
  /**
   * providers not scheduled: the ids of their parked audits that only verifiers of their own
   * operator could take (core's blockedByOwnOperator). The label is the node's claim, so one
   * claiming the operator of every verifier serving its model was never audited, and paid.
   */
  private readonly unauditable = new Map<string, Set<string>>();
  /** dissents whose majority was not vouched for by canaries when decided (strikeIfVouched); in memory, the newest kept */
  private unvouched: Dissent[] = [];
  /**
   * Settled jobs whose slash may still come, by audit id (or `judge:<job id>` while a canary is
   * judged): an audit drawn and not yet decided, in memory or parked in the store. Its slash draws on
   * the same stake as the jobs the provider runs, so maxJobCostOf leaves room for it. In memory,
   * kept as audits are drawn and decided, rebuilt from the store's pending audits at start.
   */
  private readonly undecided = new Map<string, { providerId: string; cost: bigint }>();
  /** per provider: the sum of the costs in `undecided` */
  private readonly undecidedCost = new Map<string, bigint>();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly persistence: RecordPersistence;
  private readonly parked: ParkedAudits;
  private resuming = false;
  /** the pass through parked audits under way: what it began under, and whether it took any up */
  private pass: { landscape: string; version: number; tookUp: boolean } | undefined;
  /** the last whole pass, when it took nothing up */
  private idlePass: { landscape: string; version: number } | undefined;
  private restored = false;
  /** ms of verification ticks this run: what offline nodes' seen time is counted from */
  private clock = 0;
  /** the clock value up to which a record's seenMs is counted; absent, from the start of this run */
  private readonly seenUpTo = new Map<string, number>();
  readonly minStake: bigint;
  /** local ledger: a verifier's stake to be sent audits, and a caught canary verdict's burn */
  readonly verifierMinStake: bigint;
  readonly stakes: StakeBook;
  /** set under --settlement evm (settlement/start-evm.ts); absent, everything stays on the local ledger */
  chain: ChainVerification | undefined;

  constructor(private readonly deps: CoordinatorDeps) {
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.minStake = BigInt(deps.config.minStake);
    this.verifierMinStake = BigInt(deps.config.verifierMinStake ?? deps.config.minStake);
    this.persistence = new RecordPersistence(deps.store);
    this.parked = new ParkedAudits(deps.store);
    this.stakes = new StakeBook({ ...deps, now: this.now, chain: () => this.chain });
  }

  record(nodeId: string): NodeRecord {
    let r = this.records.get(nodeId);
    if (!r) {
      r = newNodeRecord();
      this.records.set(nodeId, r);
      this.seenUpTo.set(nodeId, this.clock);
    }
    return r;
  }

  /** A node's seen ms up to now: its record's, plus the ticks since that was last brought up to date. */
  private seenMsOf(nodeId: string, r: NodeRecord): number {
    return r.seenMs + this.clock - (this.seenUpTo.get(nodeId) ?? 0);
  }

  private catchUpSeen(nodeId: string, r: NodeRecord): void {
    r.seenMs = this.seenMsOf(nodeId, r);
    this.seenUpTo.set(nodeId, this.clock);
  }

  /**
   * Loads the records a previous run left (exclusions, strikes, clean counts), and the costs of
   * audits it left undecided (what their slashes could still take of each stake); scheduling waits for it.
   */
  async restoreRecords(): Promise<void> {
    await this.persistence.load(this.records);
    if (this.stakeLimitsJobs()) await this.restoreUndecided();
    this.restored = true;
  }

  /** Pages through the pending audits once (at start): their jobs' costs, per provider. */
  private async restoreUndecided(): Promise<void> {
    const PAGE = 500;
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      const rows = await this.deps.store.verification.pendingAudits(PAGE, after);
      const jobs = new Map((await this.deps.store.getJobs(rows.map((r) => r.jobId))).map((j) => [j.id, j]));
      for (const row of rows) {
        const job = jobs.get(row.jobId);
        if (job) this.holdStake(row.id, job);
      }
      const last = rows.at(-1);
      if (rows.length < PAGE || !last) return;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  /** Whether stake limits the jobs a provider may hold: a --min-stake on the local ledger. */
  private stakeLimitsJobs(): boolean {
    return this.minStake > 0n && !this.chain;
  }

  /**
   * Counts a settled job's cost against its provider's stake under `key` until released: its audit
   * is drawn and undecided (or, for a canary, being judged), so a slash may still take k × it.
   * Counting one key twice counts it once. Nothing is held where stake backs no job limit (no
   * --min-stake, or on-chain settlement: maxJobCostOf).
   */
  holdStake(key: string, job: JobRecord): void {
    const providerId = job.providerId;
    if (!this.stakeLimitsJobs() || !providerId || this.undecided.has(key)) return;
    const cost = job.cost ?? job.escrow;
    this.undecided.set(key, { providerId, cost });
    this.undecidedCost.set(providerId, (this.undecidedCost.get(providerId) ?? 0n) + cost);
  }

  /** The slash `key` stood for was taken or will not come: its cost no longer counts against the stake. */
  releaseStake(key: string): void {
    const held = this.undecided.get(key);
    if (!held) return;
    this.undecided.delete(key);
    const left = (this.undecidedCost.get(held.providerId) ?? 0n) - held.cost;
    if (left > 0n) this.undecidedCost.set(held.providerId, left);
    else this.undecidedCost.delete(held.providerId);
    // the stake it held may back a queued job now
    this.deps.onEligibilityChanged?.();
  }

  /**
   * Adds `dt` ms of seen and online time to online nodes' records and writes the records that
   * changed. A node that is gone is seen all the same (uptime counts its absence), but its record
   * is not rewritten every tick: its seen time is counted from the clock (seenMsOf) and written
   * only when it grew by a minute or a twentieth, so a node seen once costs a few writes, not one
   * per tick for good, and a crash loses little of it.
   */
  async tickRecords(dt: number): Promise<void> {
    this.clock += dt;
    const online = new Set([...this.deps.sessions()].filter((s) => s.online).map((s) => s.id));
    for (const [id, r] of this.records) {
      if (online.has(id)) {
        this.catchUpSeen(id, r);
        r.onlineMs += dt;
      } else if (this.seenMsOf(id, r) - r.seenMs >= Math.max(OFFLINE_SEEN_WRITE_MS, r.seenMs / 20))
        this.catchUpSeen(id, r);
    }
    await this.persistence.flush(this.records, this.now());
  }

  reputationOf(nodeId: string): number {
    const session = [...this.deps.sessions()].find((s) => s.id === nodeId);
    const r = this.record(nodeId);
    return nodeReputation(reputationInput({ ...r, seenMs: this.seenMsOf(nodeId, r) }, session));
  }

  /** Excluded from scheduling and verifying (slashed, or too many strikes); reads without creating a record. */
  isExcluded(nodeId: string): boolean {
    return this.records.get(nodeId)?.excluded ?? false;
  }

  provenThroughput(nodeId: string): number | null {
    return this.records.get(nodeId)?.provenThroughput ?? null;
  }

  auditProbabilityOf(nodeId: string): number {
    return auditProbabilityWithReputation(this.record(nodeId), this.deps.config.policy, this.reputationOf(nodeId));
  }

  /** May the scheduler lease jobs to this provider? */
  eligible(s: ProviderSession): boolean {
    if (!this.restored || this.record(s.id).excluded || this.unauditable.has(s.id)) return false;
    return this.minStake === 0n || this.stakes.staked(s.id) >= this.minStake;
  }

  /**
   * May this node judge audits? Staked at least the registry's minStake on chain, and on the local
   * ledger at least `--verifier-min-stake` (by default `--min-stake`, a provider's bar): a verifier
   * with nothing at stake costs nothing to make, and two made-up ones of made-up operators could
   * fail honest results and share the reporters' part of each slash.
   */
  private verifierStaked(nodeId: string): boolean {
    const min = this.chain ? this.chain.verifierMinStake : this.verifierMinStake;
    return min === 0n || this.stakes.staked(nodeId) >= min;
  }

  /** The Slashing contract took `amount` of this node's stake (settlement/chain-slasher.ts). */
  slashedOnChain(nodeId: string, amount: bigint): void {
    this.record(nodeId).slashed += amount;
  }

  /**
   * The most a job leased to this node may cost (core's maxJobCost): its stake, less k × what its
   * jobs in flight could be slashed for, over the slash multiple k, so that whichever of them it
   * cheated on, each slash is the full multiple of what the job paid. In flight: `leased`, the
   * escrow of the jobs the engine holds on it, and the cost of its settled jobs whose audit is
   * undecided. Without `leased`, what it could take with nothing in flight (can a job ever be
   * served). No limit when the gateway asks for no stake, or under on-chain settlement (its stake
   * and slashes are the chain's). Memory only: the scheduler asks this of every provider each round.
   */
  maxJobCostOf(nodeId: string, leased?: bigint): bigint | undefined {
    if (!this.stakeLimitsJobs()) return undefined;
    const staked = this.stakes.staked(nodeId);
    if (leased === undefined) return maxJobCost(this.deps.config.policy, staked);
    return maxJobCost(this.deps.config.policy, staked, leased + (this.undecidedCost.get(nodeId) ?? 0n));
  }

  /**
   * Called once a job has settled: draw the audit now that the signed result is committed. Whether
   * it was drawn: one that was not may be replayed as a known-wrong canary (canaries.ts).
   */
  onSettled(job: JobRecord): boolean {
    const providerId = job.providerId;
    if (!providerId || !endedOnResult(job) || !job.output || !job.signature) return false;
    const rec = this.record(providerId);
    const p = this.auditProbabilityOf(providerId);
    rec.cleanJobs++;
    if (this.random() >= p) return false;
    this.startAudit(job, "sampled", p);
    return true;
  }

  /** Audits a result whatever the draw: a canary job that did not give the known answer. */
  forceAudit(job: JobRecord): void {
    if (!job.providerId || !job.output || !job.signature) return;
    this.startAudit(job, "canary", 1);
  }

  private startAudit(job: JobRecord, kind: PendingAudit["kind"], p: number): void {
    const providerId = job.providerId as string;
    const audit = newAudit(`aud_${randomBytes(8).toString("hex")}`, job, kind, this.liveOperator(providerId));
    const live = this.pending.size < MAX_LIVE_AUDITS;
    if (live) this.pending.set(audit.id, audit);
    // synchronously, while the engine still counts the job as settling: no round between the two
    this.holdStake(audit.id, job);
    this.log(audit).info({ p, kind, live }, "audit drawn");
    void this.deps.store.verification
      .putAudit({
        id: audit.id,
        jobId: job.id,
        providerId,
        status: "pending",
        kind,
        createdAt: this.now(),
        decidedAt: null,
      })
      .then(async () => {
        audit.operator ??= await this.operatorOf(providerId);
        return live ? this.begin(audit) : this.parked.parked();
      })
      .catch((err) => this.log(audit).error({ err }, "audit not started"));
  }

  /** Sends an audit in memory on its way: to the next verifier, or to its end if its verdicts decide it. */
  private async begin(audit: PendingAudit): Promise<void> {
    if (this.chain) audit.evidence = await this.chain.auditEvidence(audit.job);
    const outcome = decideAudit(audit.verdicts);
    if (outcome.kind === "next_verifier") this.askNext(audit);
    else await this.finish(audit, outcome);
  }

  /**
   * Takes up audits waiting in the store (none could be sent when drawn, or a previous run left
   * them undecided) while memory has room; called on the verification tick. One whose stored
   * verdicts decide it already (a previous run stopped between the deciding verdict and the slash)
   * is finished at once; one that needs another verifier only when one that may judge it is online.
   */
  async resumeParked(): Promise<void> {
    // an outcome changes node records, so none is decided before the previous run's are loaded
    if (!this.restored || this.resuming) return;
    // without verifiers only decided audits can go on: one pass through what the last run left finds them
    const verifiers = [...this.deps.sessions()].some((s) => s.online && s.capabilities.verifier);
    if (!verifiers && this.parked.sweptOnce) return;
    // A whole pass that took nothing up is not run again until an audit is parked or the verifiers
    // that could judge change: each pass reads every parked audit's job, outputs included, and
    // re-reading audits only their own operator's verifier could take, every tick, pinned the CPU.
    const landscape = this.verifierLandscape();
    const idle = this.idlePass;
    if (idle && idle.landscape === landscape && idle.version === this.parked.version) return;
    // with memory full a page would be empty, and an empty pass is no sign that none can be taken
    const room = MAX_LIVE_AUDITS - this.pending.size;
    if (room <= 0) return;
    this.resuming = true;
    try {
      if (this.parked.atStart) this.pass = { landscape, version: this.parked.version, tookUp: false };
      for (const parked of await this.parked.next(room, this.inMemory)) {
        const audit: PendingAudit = { ...parked, operator: await this.operatorOf(parked.job.providerId as string) };
        const decided = decideAudit(audit.verdicts).kind !== "next_verifier";
        if (!decided && this.verifierCandidates(audit.job, audit.asked, audit.operator).length === 0) {
          this.noteUnassigned(audit);
          continue;
        }
        this.clearUnauditable(audit);
        if (this.pass) this.pass.tookUp = true;
        this.pending.set(audit.id, audit);
        this.log(audit).info({ verdicts: audit.verdicts.length }, "parked audit taken up");
        await this.begin(audit);
      }
      if (this.parked.atStart && this.pass) {
        this.idlePass = this.pass.tookUp ? undefined : { landscape: this.pass.landscape, version: this.pass.version };
        this.pass = undefined;
      }
    } finally {
      this.resuming = false;
    }
  }

  /**
   * Marks or clears a parked audit's provider as not to be scheduled: marked while verifiers
   * serving the job are online and all of them are of its operator, cleared otherwise (an outage).
   */
  private noteUnassigned(audit: PendingAudit): void {
    const providerId = audit.job.providerId as string;
    const serving = this.verifiersServing(audit.job).map((s) => s.capabilities.operator ?? s.id);
    if (!blockedByOwnOperator(audit.operator ?? providerId, serving)) {
      this.clearUnauditable(audit);
      return;
    }
    const ids = this.unauditable.get(providerId) ?? new Set<string>();
    ids.add(audit.id);
    if (this.unauditable.has(providerId)) return;
    this.unauditable.set(providerId, ids);
    this.log(audit).warn(
      { operator: audit.operator },
      "only its own operator's verifiers could audit it: not scheduled",
    );
    this.deps.onEligibilityChanged?.();
  }

  private clearUnauditable(audit: PendingAudit): void {
    const providerId = audit.job.providerId as string;
    const ids = this.unauditable.get(providerId);
    if (!ids?.delete(audit.id) || ids.size > 0) return;
    this.unauditable.delete(providerId);
    this.deps.onEligibilityChanged?.();
  }

  /**
   * What decides whether a parked audit can be taken up: the verifiers online that may judge, and
   * what they serve; and the operators claimed by providers whose audits only their own could take.
   */
  private verifierLandscape(): string {
    const claims = [...this.unauditable.keys()].map((id) => `${id}/${this.liveOperator(id) ?? ""}`).join(";");
    return `${claims}|${[...this.deps.sessions()]
      .filter(
        (s) => s.online && s.capabilities.verifier === true && !this.record(s.id).excluded && this.verifierStaked(s.id),
      )
      .map(
        (s) =>
          `${s.id}/${s.capabilities.operator ?? ""}/${s.capabilities.runtimes.join(",")}/${s.capabilities.models.map((m) => m.id).join(",")}`,
      )
      .sort()
      .join(";")}`;
  }

  /** Whether onVerdict would take a verdict on this audit from this verifier now. */
  awaitsVerdict(auditId: string, verifierId: string): boolean {
    const audit = this.pending.get(auditId);
    return audit?.asked.includes(verifierId) === true && !audit.answered.has(verifierId);
  }

  async onVerdict(session: ProviderSession, msg: VerdictMessage): Promise<void> {
    const audit = this.pending.get(msg.auditId);
    if (!audit?.asked.includes(session.id) || audit.answered.has(session.id)) return;
    const claim = {
      auditId: msg.auditId,
      jobId: msg.jobId,
      outputHash: audit.job.outputHash ?? "",
      pass: msg.report.pass,
    };
    if (msg.jobId !== audit.job.id || !verifyVerdictSignature(session.id, claim, msg.signature)) {
      this.log(audit).warn({ verifierId: session.id }, "verdict signature does not verify; ignored");
      return;
    }
    // taken before the first await, so that a copy arriving meanwhile is ignored too
    audit.answered.add(session.id);
    const refused = await this.chain?.acceptVerdict(audit.id, audit.job, session, msg);
    if (refused) {
      // its evidence may come right in a resend
      audit.answered.delete(session.id);
      this.log(audit).warn({ verifierId: session.id, reason: refused }, "verdict evidence refused; ignored");
      return;
    }
    clearTimeout(audit.timer);
    const inconclusive = msg.report.metrics.inconclusive === 1;
    await this.deps.store.verification.putVerdict({
      auditId: audit.id,
      verifierId: session.id,
      jobId: audit.job.id,
      pass: msg.report.pass,
      report: msg.report,
      signature: msg.signature,
      elapsedMs: msg.elapsedMs,
      at: this.now(),
    });
    if (inconclusive) {
      // "could not check" is no verdict: it earns no fee (else answering everything so would pay
      // without doing any work) and the next verifier is asked
      this.log(audit).info({ verifierId: session.id }, "inconclusive verdict; next verifier");
      return this.askNext(audit);
    }
    this.record(session.id).verdictsGiven++;
    await this.payFee(audit, session.id);
    audit.verdicts.push({ verifierId: session.id, pass: msg.report.pass });
    this.log(audit).info(
      { verifierId: session.id, pass: msg.report.pass, reasons: msg.report.reasons, metrics: msg.report.metrics },
      "verdict",
    );
    if (!msg.report.pass && audit.verdicts.filter((v) => !v.pass).length === 1)
      this.chain?.disputed(audit.id, audit.job, session.id);
    if (!msg.report.pass) this.deps.onFailed?.(session.id);
    const outcome = decideAudit(audit.verdicts);
    if (outcome.kind === "next_verifier") return this.askNext(audit);
    // spot re-check of a single pass (core's audit/recheck.ts): a second verifier, unaware of it,
    // checks the result all the same; when none is available the pass stands
    if (
      drawPassRecheck(audit.verdicts, this.deps.config.passRecheckRate, this.random()) &&
      this.verifierCandidates(audit.job, audit.asked, audit.operator).length > 0
    ) {
      audit.recheck = true;
      this.log(audit).info({ passedBy: session.id }, "pass re-check drawn");
      return this.askNext(audit);
    }
    await this.finish(audit, outcome);
  }

  /** Applies a decided outcome once: a second call for the same audit (timer, verdict, resume) does nothing. */
  private async finish(audit: PendingAudit, outcome: Exclude<AuditOutcome, { kind: "next_verifier" }>): Promise<void> {
    if (!this.pending.delete(audit.id)) return;
    this.finishing.add(audit.id);
    try {
      await this.applyOutcome(audit, outcome);
      // decided, the slash (if any) taken and the stake re-read: its cost no longer hangs over the stake
      this.releaseStake(audit.id);
    } finally {
      this.finishing.delete(audit.id);
    }
  }

  /** Strikes for dissenters, then the pass or the slash; the store row is marked decided last. */
  private async applyOutcome(
    audit: PendingAudit,
    outcome: Exclude<AuditOutcome, { kind: "next_verifier" }>,
  ): Promise<void> {
    clearTimeout(audit.timer);
    const providerId = audit.job.providerId as string;
    const rec = this.record(providerId);
    const dissent: Dissent = {
      auditId: audit.id,
      verdicts: audit.verdicts,
      outcome,
      against: dissenters(audit.verdicts, outcome),
    };
    if (dissent.against.length > 0 && !this.strikeIfVouched(dissent)) {
      this.log(audit).info(
        { dissenters: dissent.against, outcome: outcome.kind },
        "verdicts against the outcome not struck yet: its majority has not judged a canary that way rightly",
      );
      this.unvouched.push(dissent);
      if (this.unvouched.length > MAX_UNVOUCHED) this.unvouched.shift();
    }
    if (outcome.kind === "passed") {
      rec.auditsPassed++;
      await this.decide(audit, "passed");
      this.deps.onPassed?.(audit.job, audit.asked, audit.operator ?? providerId);
      return;
    }
    if (audit.kind === "canary") rec.canariesFailed++;
    rec.auditsFailed++;
    rec.failures++;
    rec.cleanJobs = 0;
    rec.excluded = true;
    await this.slash(audit, outcome.against);
    await this.decide(audit, "slashed");
    await this.chain
      ?.slashed(audit.id, audit.job)
      .catch((err) => this.log(audit).error({ err }, "chain slash not recorded"));
  }

  /**
   * Strikes the verifiers who voted against an audit's outcome if its majority is vouched for by
   * canaries (core's majorityVouched); whether it was. A dissent not vouched for yet waits in
   * `unvouched` for the majority's next canary: a network's first audits come before any canary
   * has been judged, and a colluder contradicted then would otherwise never be struck.
   */
  private strikeIfVouched(d: Dissent): boolean {
    const vouched = majorityVouched(d.verdicts, d.outcome, (id) => {
      const r = this.record(id);
      return { goodPassed: r.goodCanariesPassed, wrongFailed: r.wrongCanariesFailed };
    });
    if (!vouched) return false;
    for (const v of d.against) {
      const vr = this.record(v);
      vr.verifierStrikes++;
      if (vr.verifierStrikes >= this.deps.config.verifierStrikes) vr.excluded = true;
      this.deps.log.warn(
        {
          auditId: d.auditId,
          verifierId: v,
          strikes: vr.verifierStrikes,
          excluded: vr.excluded,
          outcome: d.outcome.kind,
        },
        "verdict against the outcome: verifier strike",
      );
    }
    return true;
  }

  /** A provider failed a canary outright (deterministic known answer): slash and exclude it. */
  async catchProvider(job: JobRecord): Promise<void> {
    const rec = this.record(job.providerId as string);
    rec.canariesFailed++;
    rec.failures++;
    rec.cleanJobs = 0;
    rec.excluded = true;
    const audit = newAudit(`aud_${randomBytes(8).toString("hex")}`, job, "canary");
    await this.slash(audit, []);
    await this.decide(audit, "slashed");
  }

  /**
   * A verifier's verdict on a canary audit went wrong: `caught` excludes it, a strike counts. A
   * verdict that contradicted the known answer (`contradicted`: not an inconclusive one, which a
   * runtime error can cause) also burns `--verifier-min-stake` of its stake on the local ledger, as
   * slashVerifier does on chain: failing honest results pays a griefer a share of their slashes,
   * so being caught at it has to cost more than a strike.
   */
  async judgeVerifier(
    verifierId: string,
    outcome: "correct" | "caught" | "strike",
    knownWrong: boolean,
    contradicted?: { auditId: string; jobId: string },
  ): Promise<void> {
    const vr = this.record(verifierId);
    if (outcome === "correct") {
      vr.canariesPassed++;
      if (knownWrong) vr.wrongCanariesFailed++;
      else vr.goodCanariesPassed++;
      // dissents this verifier's majority could not vouch for yet may count now
      this.unvouched = this.unvouched.filter((d) => !this.strikeIfVouched(d));
      return;
    }
    vr.canariesFailed++;
    vr.verifierStrikes++;
    if (outcome === "caught" || vr.verifierStrikes >= this.deps.config.verifierStrikes) vr.excluded = true;
    if (!contradicted || this.verifierMinStake === 0n || this.chain) return;
    const { auditId, jobId } = contradicted;
    const amount = await this.stakes.slashVerifier(auditId, jobId, verifierId, this.verifierMinStake);
    vr.slashed += amount;
    this.deps.log.warn(
      { verifierId, auditId, amount: amount.toString(), outcome, excluded: vr.excluded },
      "verifier slashed: its canary verdict contradicted the known answer",
    );
  }

  private async decide(audit: PendingAudit, status: "passed" | "slashed"): Promise<void> {
    const job = audit.job;
    await this.deps.store.verification.putAudit({
      id: audit.id,
      jobId: job.id,
      providerId: job.providerId as string,
      status,
      kind: audit.kind,
      createdAt: this.now(),
      decidedAt: this.now(),
    });
    this.log(audit).info({ status }, "audit decided");
  }

  private async slash(audit: PendingAudit, reporters: string[]): Promise<void> {
    const amount = await this.stakes.slash(audit.job, reporters);
    this.record(audit.job.providerId as string).slashed += amount;
    this.log(audit).warn({ amount: amount.toString(), reporters }, "provider slashed and excluded");
  }

  /** The canary service stored this pending audit and decides it: resumeParked leaves it alone until released. */
  ownCanaryAudit(auditId: string, owned: boolean): void {
    if (owned) this.canaryOwned.add(auditId);
    else this.canaryOwned.delete(auditId);
  }

  /** Pays a verifier's fee for a canary audit's verdict, as for a real one (so canaries cannot be told apart). */
  async payCanaryFee(auditId: string, job: JobRecord, verifierId: string): Promise<void> {
    await this.payFee(newAudit(auditId, job, "canary"), verifierId);
  }

  private async payFee(audit: PendingAudit, verifierId: string): Promise<void> {
    const fee = feeOf(audit.job.cost ?? 0n, this.deps.config.auditFeeBps);
    if (fee === 0n) return;
    // on chain, redemptions debit protocol:fees by the full fee of the jobs redeemed: the audit fee
    // is the operator's, from the fee income it collects there (core/settlement/chain.ts)
    const pay = this.chain ? chainAuditFeeEvent : auditFeeEvent;
    const r = await this.deps.writer.write({
      ledger: pay(`audit:${audit.id}:${verifierId}:fee`, audit.job.id, verifierId, fee, this.now()),
    });
    if (!r.ok) this.log(audit).warn({ verifierId, err: r.error.message }, "audit fee not paid");
  }

  /** A connected node's operator (its id when it names none); undefined when it has no session. */
  private liveOperator(nodeId: string): string | undefined {
    const s = [...this.deps.sessions()].find((x) => x.id === nodeId);
    return s ? (s.capabilities.operator ?? s.id) : undefined;
  }

  /** A node's operator, from its session or, once it has disconnected, from its stored provider record. */
  async operatorOf(nodeId: string): Promise<string> {
    return this.liveOperator(nodeId) ?? (await this.deps.store.getProvider(nodeId))?.capabilities.operator ?? nodeId;
  }

  /**
   * Online, not excluded verifiers of another operator than the job's provider that can check it.
   * `providerOperator` is the one recorded with the audit; without it, the provider's live session's.
   */
  verifierCandidates(job: JobRecord, skip: string[], providerOperator?: string): ProviderSession[] {
    const operatorOf = (s: ProviderSession) => s.capabilities.operator ?? s.id;
    const operator = providerOperator ?? this.liveOperator(job.providerId as string) ?? job.providerId;
    return this.verifiersServing(job).filter((s) => operatorOf(s) !== operator && !skip.includes(s.id));
  }

  /** Online, not excluded verifiers other than the job's provider that can check it, of any operator. */
  private verifiersServing(job: JobRecord): ProviderSession[] {
    const providerId = job.providerId as string;
    return [...this.deps.sessions()].filter(
      (s) =>
        s.online &&
        s.capabilities.verifier === true &&
        s.id !== providerId &&
        !this.record(s.id).excluded &&
        this.verifierStaked(s.id) &&
        s.capabilities.runtimes.includes(job.spec.runtime) &&
        (job.spec.runtime !== "llm" || s.capabilities.models.some((m) => m.id === modelOf(job))),
    );
  }

  /** Sends the audit to a random online verifier of another operator not yet asked. */
  private askNext(audit: PendingAudit): void {
    const job = audit.job;
    const providerId = job.providerId as string;
    const candidates = this.verifierCandidates(job, audit.asked, audit.operator);
    const chosen = candidates[Math.floor(this.random() * candidates.length)];
    if (!chosen) {
      // a re-checked pass whose second verifier did not answer (or left) stands
      const standing = decideAudit(audit.verdicts);
      if (audit.recheck && standing.kind === "passed") {
        void this.finish(audit, standing).catch((err) => this.log(audit).error({ err }, "audit not decided"));
        return;
      }
      this.pending.delete(audit.id);
      clearTimeout(audit.timer);
      this.noteUnassigned(audit);
      this.parked.parked();
      this.log(audit).warn({ asked: audit.asked.length }, "no verifier available; audit parked in the store");
      return;
    }
    audit.asked.push(chosen.id);
    const msg: AuditMessage = {
      type: "audit",
      auditId: audit.id,
      jobId: job.id,
      attempt: job.attempt,
      providerId,
      spec: job.spec,
      output: job.output as AuditMessage["output"],
      outputHash: job.outputHash as string,
      units: job.units as AuditMessage["units"],
      signature: job.signature as string,
      ...(audit.evidence ? { evidence: audit.evidence } : {}),
    };
    chosen.send(msg);
    audit.timer = setTimeout(() => this.askNext(audit), this.deps.config.verdictTimeoutMs);
    audit.timer.unref();
  }

  private log(audit: PendingAudit): Logger {
    return this.deps.log.child({
      jobId: audit.job.id,
      attempt: audit.job.attempt,
      providerId: audit.job.providerId,
      auditId: audit.id,
    });
  }

  /** What /v1/verification/nodes shows per node. */
  view(nodeId: string) {
    const r = this.record(nodeId);
    const seenMs = this.seenMsOf(nodeId, r);
    return {
      stake: this.stakes.staked(nodeId).toString(),
      auditProbability: this.auditProbabilityOf(nodeId),
      auditsPassed: r.auditsPassed,
      auditsFailed: r.auditsFailed,
      verdictsGiven: r.verdictsGiven,
      verifierStrikes: r.verifierStrikes,
      slashed: r.slashed.toString(),
      excluded: r.excluded,
      canariesPassed: r.canariesPassed,
      canariesFailed: r.canariesFailed,
      goodCanariesPassed: r.goodCanariesPassed,
      wrongCanariesFailed: r.wrongCanariesFailed,
      capacityPassed: r.capacityPassed,
      capacityFailures: r.capacityFailures,
      provenThroughput: r.provenThroughput,
      uptime: seenMs > 0 ? r.onlineMs / seenMs : null,
      reputation: this.reputationOf(nodeId),
    };
  }

  /** audits in flight in memory (parked ones wait in the store) */
  pendingAudits(): number {
    return this.pending.size;
  }
}

function modelOf(job: JobRecord): string | undefined {
  return job.spec.runtime === "llm" ? job.spec.model : undefined;
}
