// The job engine: the gateway's in-memory view of active jobs and connected providers.
// Decisions come from @tessera/core; every transition is persisted through the group writer
// before anyone (consumer or provider) is told about it, so a crash loses nothing accepted.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  type AttemptRecord,
  anyCouldServe,
  cancel as cancelTransition,
  claimJobFault,
  complete,
  declaredParameters,
  escrowEvent,
  expireInQueue,
  FALLBACK_CAP_MS,
  isOwnStall,
  isTerminal,
  JOB_AT_FAULT,
  type JobRecord,
  type LedgerEvent,
  lease,
  leaseTimeCapMs,
  loseLease,
  meteringProblem,
  outprice,
  preemptions,
  ranOutOfFuel,
  releaseIsFree,
  renewLease,
  schedule,
  silentAfterMs,
  stoppedAtFault,
  streamedUnits,
  type Transition,
  wasmMemoryOf,
} from "@tessera/core";
import {
  type Capabilities,
  type ChunkMsg,
  type Constraints,
  canonicalHash,
  type FailureMsg,
  InsufficientBalance,
  type JobSpec,
  type ModelInfo,
  NotFound,
  type ResultMessage,
  TesseraError,
  type Units,
  verifyResultSignature,
} from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { z } from "zod";
import type { GatewayConfig } from "../config.js";
import type { Metrics } from "../metrics.js";
import type { Settlement } from "../settlement/settlement.js";
import { missingBlobError, outputCapError } from "./admission.js";
import { type EscrowLevel, escrowLevels } from "./escrow.js";
import { advanceStream, JobEvents, NO_STREAM, type StreamCursor } from "./events.js";
import { Outpriced } from "./outpriced.js";
import { ewma, type ProviderSession, toView } from "./sessions.js";
import { GroupWriter } from "./writer.js";

/** how often leases, time caps and deadlines are checked */
const SWEEP_MS = 250;

export interface SubmitRequest {
  consumerId: string;
  spec: JobSpec;
  constraints: Constraints;
  idempotencyKey?: string;
  /**
   * what the client sent the key as, named by a 409 for a key reused with another body: a native
   * body's `idempotencyKey` (the default) or the `Idempotency-Key` header
   */
  idempotencyParam?: "idempotencyKey" | "Idempotency-Key";
  requestHash: string;
  jobClass: JobRecord["jobClass"];
  deadlineMs: number;
  /** a client is streaming the tokens: the provider sends chunk frames (otherwise only the result) */
  stream?: boolean;
  /**
   * A line of a Batch API batch: hundreds are in flight and none is waited on alone, so the job's
   * writes may linger for a group commit (writer.ts).
   */
  patient?: boolean;
}

/** What newJobId makes: a list cursor of any other shape is a mistake, not a position. */
export const JOB_ID_PATTERN = /^job_[0-9a-f]{28}$/;

/**
 * Audits whose last verifier the engine remembers (auditSent): far more than are ever in flight
 * (the coordinator holds 256 live, canaries a few more), so only audits long gone are forgotten.
 */
export const MAX_AUDITS_TRACKED = 65_536;

export function newJobId(now: number): string {
  return `job_${now.toString(16).padStart(12, "0")}${randomBytes(8).toString("hex")}`;
}

export class Engine {
  readonly events = new JobEvents();
  /** every durable job change (submit, lease, result, failure): the explorer's live feed */
  readonly feed = new EventEmitter<{ job: [JobRecord] }>();
  readonly writer: GroupWriter;
  private readonly queued = new Map<string, JobRecord>();
  private readonly running = new Map<string, JobRecord>();
  /** running jobs whose provider's result is being checked: further frames for them wait no turn */
  private readonly resolving = new Set<string>();
  /**
   * jobs whose result is accepted and being committed, until onSettled has drawn their audit: out of
   * `running` already, their stake is still at risk (roundLoad), and no round may lease it away
   */
  private readonly settling = new Map<string, JobRecord>();
  /** the current lease of each running job: when it began, and by when its result must be in */
  private readonly leases = new Map<string, { attempt: number; at: number; endsBy: number }>();
  /** providers that said a running job is at fault itself, until the claim is confirmed */
  private readonly faultClaims = new Map<string, Set<string>>();
  private readonly outpriced = new Outpriced();
  /**
   * jobs whose last transition (a result, a cancel, a failure) is decided but not yet committed: a
   * cancel in that window answers with the outcome, not with the store's row it is about to replace
   */
  private readonly ending = new Map<string, Promise<JobRecord>>();
  /** active jobs whose writes may linger (SubmitRequest.patient) */
  private readonly patient = new Set<string>();
  readonly sessions = new Map<string, ProviderSession>();
  /** every model any provider has offered since start-up, with the providers offering it */
  readonly models = new Map<string, { info: ModelInfo; providers: Set<string> }>();
  private readonly knownBlobs = new Set<string>();
  private readonly lastServed = new Map<string, number>();
  /** waiting interactive job id -> when batch work was last interrupted for it */
  private readonly preemptedFor = new Map<string, number>();
  private readonly streams = new Map<string, StreamCursor>();
  /** jobs whose tokens a client streams; memory only: a stream does not outlive a restart */
  private readonly watched = new Set<string>();
  /** llm jobs submitted per class, and how many a client streamed: canaries stream at that share (canaries.ts) */
  readonly llmSubmits = new Map<JobRecord["jobClass"], { streamed: number; total: number }>();
  private kickScheduled = false;
  /** verification hooks (verification/coordinator.ts): who may be scheduled, what happens after settling */
  eligible: (s: ProviderSession) => boolean = () => true;
  /**
   * the most a job leased to this node may cost (verification: its stake, less the slashes its jobs in
   * flight could take, over the slash multiple); undefined, no limit. `inFlight` is the escrow of the
   * jobs the engine holds on it (leased, or settling); without it, what the node could take at all,
   * with nothing in flight (whether a job can ever be served)
   */
  jobCostCap: (s: ProviderSession, inFlight?: bigint) => bigint | undefined = () => undefined;
  onSettled: (job: JobRecord) => void = () => {};
  /**
   * audit id -> the node it was sent to last (channel.ts tells each audit sent): a verifier asked
   * after another took it over (the first timed out or could not check it), and a node that holds
   * it still holds it for nothing. The oldest are forgotten past MAX_AUDITS_TRACKED.
   */
  private readonly auditAskedOf = new Map<string, string>();
  /**
   * whether the verification service would still take a verdict on this audit from this node
   * (verification/start.ts: the coordinator's live audits and the canary service's); false, the
   * node is told to drop it (audit_cancel), as it is an audit sent since to another node
   */
  auditAwaited: (s: ProviderSession, auditId: string) => boolean = () => true;
  /** settlement backend (settlement/start.ts): admits a submit, hears each committed ledger event */
  settlement: Pick<Settlement, "admit" | "committed" | "leaseEvidence" | "acceptResult" | "welcomeChain"> = {
    admit: async () => {},
    committed: () => {},
  };
  private sweepTimer: NodeJS.Timeout | undefined;
  /** when the last sweep ran, on the monotonic clock (a stall shows as a late sweep: stalledFor) */
  private lastSweepAt = 0;

  constructor(
    private readonly store: Store,
    private readonly config: GatewayConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
    /** the clock a stall is measured on: it runs on while the process is stopped */
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    this.writer = new GroupWriter(store, 500, (e) => {
      // memory and store would disagree from here on; a restart recovers from the store
      log.fatal({ err: e }, "store commit failed; exiting so that a restart recovers a consistent state");
      process.exit(70);
    });
  }

  /** Picks up queued and running jobs after a restart; running ones wait for their provider. */
  async restore(): Promise<void> {
    await this.store.markAllProvidersOffline();
    // in the order they were first seen, as before the restart: the first declaration of a model
    // is what sizes its jobs when no node serving it is online, and breaks ties between two files
    // of one name; id order would let whoever generates a key that sorts first decide both
    const providers = (await this.store.listProviders()).sort((a, b) => a.firstSeenAt - b.firstSeenAt);
    for (const p of providers) this.offered(p.id, p.capabilities);
    const capabilities = new Map(providers.map((p) => [p.id, p.capabilities]));
    const now = this.now();
    for (const job of await this.store.activeJobs()) {
      if (job.attempt > 0) await this.restoreFaultClaims(job.id);
      if (job.status === "queued") {
        this.queued.set(job.id, job);
        continue;
      }
      this.running.set(job.id, { ...job, leaseExpiresAt: now + this.config.restartGraceMs });
      // when the lease began is not kept: its time cap counts again from the restart
      const node = capabilities.get(job.providerId ?? "");
      const cap = node ? leaseTimeCapMs(job.spec, node) : FALLBACK_CAP_MS;
      this.leases.set(job.id, { attempt: job.attempt, at: now, endsBy: now + this.config.restartGraceMs + cap });
    }
    this.log.info({ queued: this.queued.size, running: this.running.size }, "restored active jobs");
    this.lastSweepAt = this.monotonic();
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
    this.kick();
  }

  /**
   * A node's word that a job is at fault stands until a second node agrees or the job completes; it is
   * kept in the job's attempts, so a restart between the two claims does not forget the first.
   */
  private async restoreFaultClaims(jobId: string): Promise<void> {
    const claimants = (await this.store.attempts(jobId))
      .filter((a) => a.outcome === "failed" && a.reason?.startsWith(JOB_AT_FAULT))
      .map((a) => a.providerId);
    if (claimants.length > 0) this.faultClaims.set(jobId, new Set(claimants));
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  get queueDepth(): number {
    return this.queued.size;
  }
  get runningCount(): number {
    return this.running.size;
  }
  activeJob(id: string): JobRecord | undefined {
    return this.queued.get(id) ?? this.running.get(id);
  }

  async submit(req: SubmitRequest): Promise<JobRecord> {
    if (req.idempotencyKey) {
      const existing = await this.store.jobByIdempotencyKey(req.consumerId, req.idempotencyKey);
      if (existing) return this.sameRequest(existing, req);
    }
    const refused =
      outputCapError(req.spec, this.models, "limits.maxOutputTokens") ??
      (await missingBlobError(req.spec, (id) => this.hasBlob(id)));
    if (refused) throw refused;
    const levels = escrowLevels(req.spec, req.constraints, this.onlineSessions(), this.models);
    const dearest = levels[0] as EscrowLevel;
    try {
      return await this.queue(req, req.constraints, dearest.escrow);
    } catch (err) {
      if (!(err instanceof InsufficientBalance) || levels.length === 1) throw err;
      // the dearest price the consumer can cover, and the job is held to it
      const within = levels.find((l) => l.escrow <= err.available);
      if (!within) throw new InsufficientBalance((levels.at(-1) as EscrowLevel).escrow, err.available);
      return await this.queue(req, { ...req.constraints, maxPricePerUnit: within.pricePerUnit }, within.escrow);
    }
  }

  /** Escrows and queues a job; throws (InsufficientBalance among others) with nothing written. */
  private async queue(req: SubmitRequest, constraints: Constraints, escrow: bigint): Promise<JobRecord> {
    const now = this.now();
    await this.settlement.admit(req.consumerId, escrow);
    const job: JobRecord = {
      id: newJobId(now),
      consumerId: req.consumerId,
      spec: req.spec,
      constraints,
      jobClass: req.jobClass,
      status: "queued",
      attempt: 0,
      maxAttempts: this.config.maxAttempts,
      providerId: null,
      pricePerUnit: null,
      leaseExpiresAt: null,
      triedProviders: [],
      escrow,
      cost: null,
      units: null,
      output: null,
      outputHash: null,
      signature: null,
      error: null,
      idempotencyKey: req.idempotencyKey ?? null,
      requestHash: req.requestHash,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      deadlineAt: now + req.deadlineMs,
    };
    if (req.patient) this.patient.add(job.id);
    const result = await this.writer.write(
      {
        job,
        ledger: escrowEvent(job.id, job.consumerId, escrow, now),
        idempotency: req.idempotencyKey
          ? { consumerId: req.consumerId, key: req.idempotencyKey, jobId: job.id }
          : undefined,
      },
      req.patient,
    );
    if (!result.ok) {
      this.patient.delete(job.id);
      // two identical submits raced: the loser answers with the winner's job
      if (result.error.code === "idempotency_conflict" && req.idempotencyKey) {
        const winner = await this.store.jobByIdempotencyKey(req.consumerId, req.idempotencyKey);
        if (winner) return this.sameRequest(winner, req);
      }
      throw result.error;
    }
    if (result.ledgerApplied) this.settlement.committed(escrowEvent(job.id, job.consumerId, escrow, now), job);
    this.metrics.jobsSubmitted.inc({ runtime: job.spec.runtime });
    if (req.stream) this.watched.add(job.id);
    if (job.spec.runtime === "llm") {
      const n = this.llmSubmits.get(job.jobClass) ?? { streamed: 0, total: 0 };
      n.total++;
      if (req.stream) n.streamed++;
      this.llmSubmits.set(job.jobClass, n);
    }
    this.queued.set(job.id, job);
    this.feed.emit("job", job);
    this.kick();
    return job;
  }

  private sameRequest(existing: JobRecord, req: SubmitRequest): JobRecord {
    if (existing.requestHash !== req.requestHash) {
      throw new TesseraError(
        "idempotency_conflict",
        409,
        `Idempotency key '${req.idempotencyKey}' was already used with a different request body.`,
        "conflict_error",
        req.idempotencyParam ?? "idempotencyKey",
      );
    }
    return this.activeJob(existing.id) ?? existing;
  }

  async cancel(consumerId: string, jobId: string): Promise<JobRecord> {
    const pending = this.ending.get(jobId);
    if (pending) {
      const done = await pending;
      if (done.consumerId !== consumerId) throw new NotFound("job", jobId, "id");
      return done;
    }
    const job = this.activeJob(jobId);
    if (!job || job.consumerId !== consumerId) {
      const stored = await this.store.getJob(jobId);
      if (!stored || stored.consumerId !== consumerId) throw new NotFound("job", jobId, "id");
      return stored; // already finished: cancelling changes nothing
    }
    // The provider hears first: the slot this frees may be leased again at once, and that lease
    // frame must not reach the provider before the cancel that makes room for it.
    if (job.status === "running" && job.providerId)
      this.sessions
        .get(job.providerId)
        ?.send({ type: "cancel", jobId, attempt: job.attempt, reason: "cancelled by the consumer" });
    const streamed = this.streamedUnits(job);
    return this.apply(
      job,
      cancelTransition(job, this.now(), undefined, streamed && { units: streamed, feeBps: this.config.feeBps }),
    );
  }

  /** What a stop bills: the prompt and output its current lease streamed, if a client was sent any (core's streamedUnits). */
  private streamedUnits(job: JobRecord): Units | undefined {
    const cursor = this.streams.get(job.id);
    if (job.status !== "running" || job.spec.runtime !== "llm" || !this.watched.has(job.id)) return undefined;
    if (!cursor || cursor.forwardedChars === 0 || cursor.attempt !== job.attempt) return undefined;
    // as for results: the holder's own declared parameter count (meteringProblem)
    const holder = this.sessions.get(job.providerId ?? "");
    const parameters =
      (holder && declaredParameters(holder.capabilities, job.spec.model)) ??
      this.models.get(job.spec.model)?.info.parameters;
    if (parameters === undefined) return undefined;
    return streamedUnits(job.spec, parameters, {
      tokens: cursor.attemptTokens,
      bytes: cursor.attemptBytes,
      promptTokens: cursor.attemptPromptTokens,
    });
  }

  // ---- provider channel ----

  connect(session: ProviderSession): void {
    const previous = this.sessions.get(session.id);
    if (previous && previous !== session) {
      // its record is read from the store, which the session it replaces has not written since it
      // connected: a node must not shed the failures counted against it by connecting again
      session.completed = previous.completed;
      session.failed = previous.failed;
      session.msPerUnit = previous.msPerUnit;
      previous.close(4003, "replaced by a newer connection");
    }
    session.lastHeardAt = this.monotonic();
    session.silent = false;
    this.sessions.set(session.id, session);
    this.offered(session.id, session.capabilities);
    this.metrics.providersOnline.set(this.onlineSessions().length);
    void this.writer.write({
      provider: {
        id: session.id,
        capabilities: session.capabilities,
        firstSeenAt: session.connectedAt,
        lastSeenAt: session.connectedAt,
        online: true,
        completed: session.completed,
        failed: session.failed,
      },
    });
    this.kick();
  }

  disconnect(session: ProviderSession): void {
    if (this.sessions.get(session.id) !== session) return;
    session.online = false;
    this.sessions.delete(session.id);
    const graceUntil = this.now() + this.config.disconnectGraceMs;
    for (const job of this.running.values()) {
      if (job.providerId === session.id && (job.leaseExpiresAt ?? 0) > graceUntil)
        this.running.set(job.id, { ...job, leaseExpiresAt: graceUntil });
    }
    this.metrics.providersOnline.set(this.onlineSessions().length);
    void this.writer.write({ provider: this.providerRecord(session, false) });
  }

  drain(session: ProviderSession): void {
    session.draining = true;
    this.log.info({ providerId: session.id }, "provider draining");
  }

  /** A paused provider is scheduled like a draining one (not at all) until it resumes. */
  pause(session: ProviderSession, paused: boolean): void {
    session.draining = paused;
    this.log.info({ providerId: session.id }, paused ? "provider paused by its owner" : "provider resumed");
    if (!paused) this.kick();
  }

  /**
   * Renews the leases the node still holds. A job it names whose lease it no longer holds (it
   * expired while the node was away, or it was requeued or ended) is cancelled there: the node
   * would run it to the end for a result no one takes, holding a slot and its WASM memory that
   * this gateway counts free and leases again, so the jobs leased there would wait behind it.
   */
  heartbeat(
    session: ProviderSession,
    running: { jobId: string; attempt: number }[],
    audits: { auditId: string; wasmMemoryMb: number }[] = [],
  ): void {
    this.heldAudits(session, audits);
    session.heartbeats = true;
    const now = this.now();
    for (const r of running) {
      const job = this.running.get(r.jobId);
      if (job && job.providerId === session.id && job.attempt === r.attempt) {
        this.running.set(job.id, renewLease(job, now, this.config.leaseMs));
        continue;
      }
      // an attempt past the job's last lease here is one this gateway has yet to make (a crash
      // lost its lease's commit): the node's run of it stands, and is taken when it is leased
      const active = this.activeJob(r.jobId);
      if (active && r.attempt > active.attempt) continue;
      session.send({ type: "cancel", jobId: r.jobId, attempt: r.attempt, reason: "this lease is no longer held" });
    }
    // its leases from before are known now, and the cancels above reach it ahead of any new lease
    if (session.awaitingHeartbeat) {
      session.awaitingHeartbeat = false;
      this.kick();
    }
  }

  /**
   * An audit went to this node (channel.ts): a node it went to before holds it for nothing now. Its
   * WASM memory (`wasmMemoryMb`) counts used there at once, until the node's next heartbeat lists
   * what it holds: a round in between would lease a WASM job into memory the audit is about to take.
   */
  auditSent(nodeId: string, auditId: string, wasmMemoryMb = 0): void {
    this.auditAskedOf.delete(auditId);
    this.auditAskedOf.set(auditId, nodeId);
    if (this.auditAskedOf.size > MAX_AUDITS_TRACKED) {
      const oldest = this.auditAskedOf.keys().next().value;
      if (oldest !== undefined) this.auditAskedOf.delete(oldest);
    }
    const session = this.sessions.get(nodeId);
    if (session && wasmMemoryMb > 0) session.auditWasmMb = (session.auditWasmMb ?? 0) + wasmMemoryMb;
  }

  /**
   * The audits a verifier listed in its heartbeat: the WASM memory they hold or wait for is counted
   * used by the scheduler (a WASM job leased into it would wait on the node behind them, its lease's
   * time cap running), and those whose verdict from it is awaited no more (auditAwaited) are
   * cancelled there, or they would wait for memory and run for a verdict no one takes.
   */
  private heldAudits(session: ProviderSession, audits: { auditId: string; wasmMemoryMb: number }[]): void {
    const before = session.auditWasmMb ?? 0;
    let held = 0;
    for (const a of audits) {
      const askedOf = this.auditAskedOf.get(a.auditId);
      if ((askedOf !== undefined && askedOf !== session.id) || !this.auditAwaited(session, a.auditId)) {
        session.send({ type: "audit_cancel", auditId: a.auditId, reason: "this audit's verdict is awaited no more" });
        continue;
      }
      held += a.wasmMemoryMb;
    }
    session.auditWasmMb = held;
    // memory freed: WASM jobs held back for it may be leased now
    if (held < before) this.kick();
  }

  chunk(session: ProviderSession, msg: z.infer<typeof ChunkMsg>): void {
    const job = this.running.get(msg.jobId);
    if (!job || job.providerId !== session.id || job.attempt !== msg.attempt) return;
    const previous = this.streams.get(job.id) ?? NO_STREAM;
    const { cursor, fresh } = advanceStream(previous, msg.attempt, msg.text, msg.tokens?.length, msg.promptTokens);
    this.streams.set(job.id, cursor);
    if (fresh) this.events.emit(job.id, { type: "chunk", text: fresh });
  }

  async result(session: ProviderSession, msg: ResultMessage): Promise<{ accepted: boolean; reason?: string }> {
    const job = this.running.get(msg.jobId);
    if (!job || job.providerId !== session.id || job.attempt !== msg.attempt)
      return { accepted: false, reason: "not the current lease of this job" };
    // One result per lease: frames already in flight would all pass the check above while the
    // first one awaits below, and each would be applied (and counted) again.
    if (this.resolving.has(job.id)) return { accepted: false, reason: "a result for this lease is already in hand" };
    this.resolving.add(job.id);
    try {
      return await this.acceptResult(session, job, msg);
    } finally {
      this.resolving.delete(job.id);
    }
  }

  private async acceptResult(
    session: ProviderSession,
    job: JobRecord,
    msg: ResultMessage,
  ): Promise<{ accepted: boolean; reason?: string }> {
    const claim = { jobId: msg.jobId, attempt: msg.attempt, outputHash: msg.outputHash, units: msg.units };
    const problem =
      canonicalHash(msg.output) !== msg.outputHash
        ? "output hash does not match the output"
        : !verifyResultSignature(session.id, claim, msg.signature)
          ? "result signature does not verify"
          : (this.meteringProblem(job, session, msg) ?? (await this.settlement.acceptResult?.(job, session, msg)));
    // a cancel or the lease's expiry may have ended it meanwhile (a heartbeat only renews it)
    const current = this.running.get(job.id);
    if (current?.attempt !== job.attempt || current.providerId !== job.providerId)
      return { accepted: false, reason: "the lease ended while its result was checked" };
    if (problem) {
      session.failed++;
      await this.apply(job, loseLease(job, "failed", problem, this.now()));
      this.log.warn({ jobId: job.id, attempt: job.attempt, providerId: session.id, problem }, "result rejected");
      return { accepted: false, reason: problem };
    }
    const now = this.now();
    // a node that said this job was at fault while another could run it was wrong (unless this
    // result says so too: the job ran out of fuel or trapped)
    const claimants = stoppedAtFault(msg.output) ? [] : (this.faultClaims.get(job.id) ?? []);
    for (const claimant of claimants) {
      const s = this.sessions.get(claimant);
      if (s) s.failed++;
    }
    // its stake stays drawn on until the audit is drawn (or not): a round while it commits must not lease that away
    this.settling.set(job.id, job);
    let settled: JobRecord;
    try {
      settled = await this.apply(job, complete(job, { ...msg, feeBps: this.config.feeBps, now }));
      session.completed++;
      this.onSettled(settled);
    } finally {
      this.settling.delete(job.id);
    }
    const units = Math.max(1, msg.units.standardUnits);
    session.msPerUnit = ewma(session.msPerUnit, (now - (job.startedAt ?? now)) / units);
    this.lastServed.set(job.consumerId, now);
    this.metrics.jobLatency.observe({ runtime: job.spec.runtime }, (now - job.createdAt) / 1000);
    this.metrics.tokens.inc(msg.units.outputTokens);
    return { accepted: true };
  }

  /** A claim that cannot be right whatever the hardware: billed beyond the job's own caps. */
  private meteringProblem(job: JobRecord, session: ProviderSession, msg: ResultMessage): string | undefined {
    if (job.spec.runtime === "llm") {
      if (!("tokens" in msg.output)) return "llm job returned a non-llm output";
      if (msg.units.outputTokens !== msg.output.tokens.length) return "outputTokens does not match the tokens returned";
    } else if (!("data" in msg.output)) return "wasm job returned a non-wasm output";
    // the node's own declared parameter count: it cannot bill more than its own claim implies, and
    // whether the claim is the file's is for audits (the verifier reads it from the GGUF). The
    // gateway's table holds the first declaration, which one dishonest hello must not turn into
    // a refusal of every honest result.
    const parameters =
      job.spec.runtime === "llm" ? declaredParameters(session.capabilities, job.spec.model) : undefined;
    return meteringProblem(job.spec, msg.units, { parameters, outOfFuel: ranOutOfFuel(msg.output) });
  }

  async failure(session: ProviderSession, msg: z.infer<typeof FailureMsg>): Promise<void> {
    const job = this.running.get(msg.jobId);
    if (!job || job.providerId !== session.id || job.attempt !== msg.attempt || this.resolving.has(job.id)) return;
    if (msg.retryable) {
      session.failed++;
      await this.apply(job, loseLease(job, "failed", msg.reason, this.now()));
      return;
    }
    const confirmed = this.recordFaultClaim(job, session.id);
    await this.apply(job, claimJobFault(job, msg.reason, this.now(), { confirmed }));
  }

  /**
   * Records that a node says the job is at fault; whether the claim now stands: a second node has
   * made it, or no other node could try the job.
   */
  private recordFaultClaim(job: JobRecord, claimant: string): boolean {
    const claimants = this.faultClaims.get(job.id) ?? new Set<string>();
    claimants.add(claimant);
    this.faultClaims.set(job.id, claimants);
    if (claimants.size > 1) return true;
    const others = this.onlineSessions()
      .filter((s) => !claimants.has(s.id) && this.eligible(s))
      .map((s) => toView(s, 0, this.jobCostCap(s)));
    return !anyCouldServe(job, others);
  }

  // ---- scheduling ----

  kick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.scheduleRound();
    });
  }

  /**
   * Per provider: its jobs leased now, the escrow of those and of the ones settling (whose audit
   * is not drawn yet), which its stake backs beside the next job, and the memory limits of its
   * running WASM jobs, which its WASM memory budget holds. From memory, in the one pass over
   * running jobs a round already made for the counts: no store read.
   */
  private roundLoad(): { counts: Map<string, number>; inFlight: Map<string, bigint>; wasmMb: Map<string, number> } {
    const counts = new Map<string, number>();
    const inFlight = new Map<string, bigint>();
    const wasmMb = new Map<string, number>();
    for (const j of this.running.values()) {
      if (!j.providerId) continue;
      counts.set(j.providerId, (counts.get(j.providerId) ?? 0) + 1);
      inFlight.set(j.providerId, (inFlight.get(j.providerId) ?? 0n) + j.escrow);
      wasmMb.set(j.providerId, (wasmMb.get(j.providerId) ?? 0) + wasmMemoryOf(j.spec));
    }
    for (const j of this.settling.values())
      if (j.providerId) inFlight.set(j.providerId, (inFlight.get(j.providerId) ?? 0n) + j.escrow);
    return { counts, inFlight, wasmMb };
  }

  /** The providers a round may lease to, as they stand now. */
  private roundViews(): ReturnType<typeof toView>[] {
    const { counts, inFlight, wasmMb } = this.roundLoad();
    return this.onlineSessions()
      .filter((s) => this.eligible(s) && !s.awaitingHeartbeat && !s.silent)
      .map((s) =>
        toView(s, counts.get(s.id) ?? 0, this.jobCostCap(s, inFlight.get(s.id) ?? 0n), wasmMb.get(s.id) ?? 0),
      );
  }

  private scheduleRound(): void {
    if (this.queued.size === 0) return;
    const views = this.roundViews();
    if (views.length === 0) return;
    const perConsumer = new Map<string, number>();
    for (const j of this.running.values()) perConsumer.set(j.consumerId, (perConsumer.get(j.consumerId) ?? 0) + 1);
    const now = this.now();
    // a job past its deadline is leased to no one: the sweep fails it, refunded
    const assignments = schedule({
      queued: [...this.queued.values()],
      providers: views,
      lastServed: this.lastServed,
      consumerRunning: perConsumer,
      ...(this.config.maxRunningPerConsumer > 0 ? { maxRunningPerConsumer: this.config.maxRunningPerConsumer } : {}),
      now,
    });
    for (const a of assignments) {
      const job = this.queued.get(a.jobId);
      const session = this.sessions.get(a.providerId);
      if (!job || !session) continue;
      this.lastServed.set(job.consumerId, now);
      const t = lease(job, a.providerId, a.pricePerUnit, now, this.config.leaseMs);
      // The lease frame goes out now, beside its commit rather than after it (which may linger,
      // writer.ts), so the provider starts a commit earlier. A lease lost in a crash costs nothing:
      // the job is durable as queued and is leased again after the restart, and a result for a
      // lease the gateway does not hold is refused, so no job is billed twice.
      void this.apply(job, t);
      const leased = t.job;
      this.leases.set(leased.id, {
        attempt: leased.attempt,
        at: now,
        endsBy: now + leaseTimeCapMs(leased.spec, session.capabilities),
      });
      const evidence = this.settlement.leaseEvidence?.(leased, session);
      session.send({
        type: "lease",
        jobId: leased.id,
        attempt: leased.attempt,
        spec: leased.spec,
        leaseExpiresAt: leased.leaseExpiresAt ?? now,
        ...(leased.jobClass === "batch" ? { interruptible: true } : {}),
        stream: this.watched.has(leased.id),
        ...(evidence ? { evidence } : {}),
      });
    }
    if (this.config.preemptAfterMs > 0) this.preempt(new Set(assignments.map((a) => a.jobId)), now);
  }

  /** Interactive jobs that waited too long take their slot from a running batch job (not billed, no attempt used). */
  private preempt(assigned: Set<string>, now: number): void {
    for (const id of this.preemptedFor.keys()) if (!this.queued.has(id)) this.preemptedFor.delete(id);
    // a job that a preemption did not get leased waits a full preemptAfterMs before another one
    const waiting = [...this.queued.values()].filter(
      (j) =>
        j.jobClass !== "batch" &&
        !assigned.has(j.id) &&
        now - (this.preemptedFor.get(j.id) ?? Number.NEGATIVE_INFINITY) >= this.config.preemptAfterMs,
    );
    if (waiting.length === 0) return;
    // this round's leases included: a provider they filled is full now, and their escrow is drawn on
    // its stake (a job its stake does not back beside the batch jobs it holds takes none of them
    // back: the slot would go straight back to batch work)
    const views = this.roundViews();
    const perConsumer = new Map<string, number>();
    for (const j of this.running.values()) perConsumer.set(j.consumerId, (perConsumer.get(j.consumerId) ?? 0) + 1);
    const runningBatch = [...this.running.values()]
      .filter((j) => j.jobClass === "batch" && j.providerId)
      .map((j) => ({
        jobId: j.id,
        providerId: j.providerId ?? "",
        consumerId: j.consumerId,
        leasedAt: this.leases.get(j.id)?.at ?? j.updatedAt,
        memoryMb: wasmMemoryOf(j.spec),
      }));
    const chosen = preemptions({
      waiting,
      providers: views,
      runningBatch,
      now,
      afterMs: this.config.preemptAfterMs,
      consumerRunning: perConsumer,
      ...(this.config.maxRunningPerConsumer > 0 ? { maxRunningPerConsumer: this.config.maxRunningPerConsumer } : {}),
    });
    for (const p of chosen) {
      this.preemptedFor.set(p.forJobId, now);
      const job = this.running.get(p.jobId);
      if (!job) continue;
      this.sessions
        .get(p.providerId)
        ?.send({ type: "cancel", jobId: job.id, attempt: job.attempt, reason: "preempted by interactive work" });
      void this.apply(job, loseLease(job, "released", "preempted by interactive work", now, { takenBack: true }));
    }
  }

  /**
   * How long this process went unscheduled past the sweep interval, when that was longer than a
   * heartbeat period (SIGSTOP, a paused VM, a host that starved it): undefined otherwise. Measured
   * on the monotonic clock, the one that keeps running while the process stands still.
   */
  private stalledFor(): number | undefined {
    const at = this.monotonic();
    const late = at - this.lastSweepAt - SWEEP_MS;
    this.lastSweepAt = at;
    return isOwnStall(late, this.config.heartbeatMs) ? late : undefined;
  }

  /**
   * After a stall, leases are treated as after a restart: each gets at least the restart grace.
   * The heartbeats that renewed them were sent while this process could not read them, and
   * nodes that gave up on its silence are redialling; expiring the leases now would throw away
   * work that is still running, count it against its nodes, and spend its jobs' attempts.
   */
  private graceAfterStall(now: number, stalledMs: number): void {
    this.metrics.stalls.inc();
    const until = now + this.config.restartGraceMs;
    let extended = 0;
    for (const job of this.running.values()) {
      if ((job.leaseExpiresAt ?? 0) >= until) continue;
      this.running.set(job.id, { ...job, leaseExpiresAt: until });
      extended++;
    }
    this.log.warn(
      { stalledMs: Math.round(stalledMs), leasesExtended: extended, graceMs: this.config.restartGraceMs },
      "gateway stalled: running leases get the restart grace, since their heartbeats went unheard",
    );
  }

  /**
   * The provider gave a lease back unfinished: requeued, billing no one, and without using up an
   * attempt when the release is one an honest node makes (core's releaseIsFree); otherwise it
   * counts as an attempt and against the node, like a failure.
   */
  async release(session: ProviderSession, msg: { jobId: string; attempt: number; reason: string }): Promise<void> {
    const job = this.running.get(msg.jobId);
    if (!job || job.providerId !== session.id || job.attempt !== msg.attempt || this.resolving.has(job.id)) return;
    const free = releaseIsFree(job);
    if (!free) session.failed++;
    const reason = free ? msg.reason : `${msg.reason} (given back unfinished, counted as an attempt)`;
    await this.apply(job, loseLease(job, "released", reason, this.now(), { countsAsAttempt: !free }));
  }

  /** A frame of this node was read (channel.ts): a node that had gone silent is leased to again. */
  heard(session: ProviderSession): void {
    session.lastHeardAt = this.monotonic();
    if (!session.silent) return;
    session.silent = false;
    this.log.info({ providerId: session.id }, "provider heard again");
    this.kick();
  }

  private markSilent(): void {
    const at = this.monotonic();
    const quietLimitMs = silentAfterMs(this.config.heartbeatMs);
    for (const s of this.onlineSessions()) {
      const quietMs = at - (s.lastHeardAt ?? at);
      // Judged against the node's own rhythm: one that never sent a heartbeat on this session
      // (the tests' bare protocol clients are such nodes) gives none to miss, and its leases still
      // expire on time. Every provider daemon heartbeats right after its welcome.
      if (s.silent || !s.heartbeats || quietMs <= quietLimitMs) continue;
      s.silent = true;
      this.log.warn(
        { providerId: s.id, quietMs: Math.round(quietMs) },
        "provider silent: no new leases until it is heard",
      );
    }
  }

  private sweep(): void {
    const now = this.now();
    const stalledMs = this.stalledFor();
    if (stalledMs !== undefined) {
      // the rest waits a round: what the nodes sent meanwhile (results, heartbeats) is read first
      this.graceAfterStall(now, stalledMs);
      return;
    }
    this.markSilent();
    for (const job of this.running.values()) {
      // a heartbeat renews the lease, never past its time cap
      const current = this.leases.get(job.id);
      const capped =
        current?.attempt === job.attempt && current.endsBy <= now && !this.resolving.has(job.id) ? current : undefined;
      if (!capped && (job.leaseExpiresAt ?? 0) > now) continue;
      const session = this.sessions.get(job.providerId ?? "");
      const reason = capped
        ? `ran past its time cap (${Math.round((capped.endsBy - capped.at) / 1000)} s from the lease)`
        : session
          ? "lease expired without a heartbeat"
          : "provider disconnected";
      if (session) {
        session.failed++;
        // it still runs the job: told to stop, it frees the slot
        if (capped) session.send({ type: "cancel", jobId: job.id, attempt: job.attempt, reason });
      }
      void this.apply(job, loseLease(job, "expired", reason, now));
    }
    for (const job of this.queued.values()) {
      if (job.deadlineAt !== null && job.deadlineAt <= now) void this.apply(job, expireInQueue(job, now));
    }
    const views = () =>
      this.onlineSessions()
        .filter((s) => this.eligible(s))
        .map((s) => toView(s, 0, this.jobCostCap(s)));
    for (const { job, need } of this.outpriced.due(this.queued.values(), views, now)) {
      if (this.queued.get(job.id) !== job) continue; // expired just above
      this.log.info({ jobId: job.id, escrow: job.escrow.toString(), need: need.toString() }, "job outpriced");
      void this.apply(job, outprice(job, need, now));
    }
    // waiting interactive work is re-examined so that preemption can act once it has waited long enough
    if (this.config.preemptAfterMs > 0 && this.queued.size > 0 && this.running.size > 0) this.kick();
    this.metrics.queueDepth.set(this.queued.size);
    this.metrics.running.set(this.running.size);
  }

  /**
   * Makes a transition current in memory at once (so no other event acts on the old state),
   * then persists it; listeners hear of the outcome only after it is durable.
   */
  private apply(before: JobRecord, t: Transition): Promise<JobRecord> {
    const done = this.applyNow(before, t);
    if (!isTerminal(t.job)) return done;
    const id = t.job.id;
    this.ending.set(id, done);
    const forget = () => {
      if (this.ending.get(id) === done) this.ending.delete(id);
    };
    done.then(forget, forget);
    return done;
  }

  private async applyNow(before: JobRecord, t: Transition): Promise<JobRecord> {
    const job = t.job;
    this.queued.delete(before.id);
    this.running.delete(before.id);
    if (job.status === "queued") this.queued.set(job.id, job);
    else if (job.status === "running") this.running.set(job.id, job);
    // at once, not after the commit: by then the job may hold a new lease
    if (job.status !== "running") this.leases.delete(job.id);
    const ended = t.attempt && t.attempt.outcome !== "running" ? t.attempt : undefined;
    if (ended && ended.outcome !== "completed")
      this.log.info(
        {
          jobId: job.id,
          attempt: ended.attempt,
          providerId: ended.providerId,
          outcome: ended.outcome,
          reason: ended.reason,
        },
        "attempt ended",
      );
    const op: { job: JobRecord; ledger?: LedgerEvent; attempt?: AttemptRecord } = { job };
    if (t.ledger) op.ledger = t.ledger;
    if (t.attempt) op.attempt = t.attempt;
    // a new lease's commit is waited on by no one: its frame went out when it was decided
    const patient = this.patient.has(job.id) || (job.status === "running" && before.status !== "running");
    if (isTerminal(job)) this.patient.delete(job.id);
    const r = await this.writer.write(op, patient);
    if (!r.ok) throw r.error;
    if (op.ledger && r.ledgerApplied) this.settlement.committed(op.ledger, job);
    this.feed.emit("job", job);
    if (isTerminal(job)) {
      this.faultClaims.delete(job.id);
      this.streams.delete(job.id);
      this.watched.delete(job.id);
      this.metrics.jobsFinished.inc({ runtime: job.spec.runtime, status: job.status });
      this.events.emit(job.id, { type: "done", job });
    }
    if (job.status === "queued" || isTerminal(job)) this.kick();
    return job;
  }

  // ---- views ----

  onlineSessions(): ProviderSession[] {
    return [...this.sessions.values()].filter((s) => s.online);
  }

  runningOn(providerId: string): number {
    let n = 0;
    for (const j of this.running.values()) if (j.providerId === providerId) n++;
    return n;
  }

  /** What a node (connecting now, or known from before a restart) offers: its models. */
  private offered(providerId: string, caps: Capabilities): void {
    this.addModels(providerId, caps.models);
  }

  private addModels(providerId: string, models: ModelInfo[]): void {
    for (const m of models) {
      const entry = this.models.get(m.id);
      if (!entry) {
        this.models.set(m.id, { info: m, providers: new Set([providerId]) });
        continue;
      }
      entry.providers.add(providerId);
      // the largest context any provider offers: what decides whether a job can run at all
      if (m.contextSize > entry.info.contextSize) entry.info = { ...entry.info, contextSize: m.contextSize };
    }
  }

  /** Blobs are never deleted, so an id once seen stays known. */
  private async hasBlob(id: string): Promise<boolean> {
    if (this.knownBlobs.has(id)) return true;
    const found = await this.store.hasBlob(id);
    if (found) this.knownBlobs.add(id);
    return found;
  }

  private providerRecord(s: ProviderSession, online: boolean) {
    return {
      id: s.id,
      capabilities: s.capabilities,
      firstSeenAt: s.connectedAt,
      lastSeenAt: this.now(),
      online,
      completed: s.completed,
      failed: s.failed,
    };
  }
}
