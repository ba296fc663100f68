// The gateway's canary shell around core's canary rules. Results a verifier passed become known
// answers (templates). After settled real jobs, at `providerRate`, a template's spec is submitted
// again as an ordinary job of a protocol-funded consumer, scheduled like any other: the provider
// that runs it must give the known answer. After passed real audits, at `verifierRate`, a verifier
// that did not take part gets a known-wrong result or a known-good one, as an ordinary audit
// message. Canaries are paid out of protocol fees.
//
// A known-wrong result is a real one replayed under another job's input: the genuine signed result
// of a real job J1 that settled just now and was not drawn for audit, sent as J1's audit (its
// pending audit stored first, as a drawn audit's is) with J1's spec but the input of a template J2
// whose known answer it fails with certainty (core's replayedKnownWrong; for wasm J2's spec shows
// all J1's does; for llm J1 is of J2's model, greedy or sampled). Every lookup a verifier can make
// (J1's provider, its job page, outputHash, units, signature, audit record) agrees with a real
// audit; only checking the result against the spec tells. J1's provider is judged on nothing: the audit is decided as a void canary. When no
// such result settles within `replayWaitMs` of the draw, the old form goes out: the passed result
// corrupted, signed by a throw-away identity under a job id never submitted (a verifier that fails
// those and passes the rest passes the replayed ones, and is caught).
//
// Indistinguishable means: a canary repeats its template's spec, class and deadline span (what
// the explorer shows of any job); the explorer hides which consumer submitted a job
// (explorer/privacy.ts); the canary account is funded ahead, in reserves, by draws that then
// submit nothing, so a funding in the public ledger does not announce the next lease; and a canary
// is submitted after an exponential wait, not as the real job that drew it settles.
import { createHash, randomBytes } from "node:crypto";
import {
  type CanaryPolicy,
  canaryDelayMs,
  canaryDraw,
  canaryFundEvent,
  canaryStreams,
  corruptOutput,
  endedOnResult,
  FEES,
  independentlyReproduced,
  isTemplateCandidate,
  isTerminal,
  type JobRecord,
  judgeProviderCanary,
  judgeVerifierCanary,
  type ReplayResult,
  type ReplayTolerances,
  replayedKnownWrong,
  stakeAccounts,
  stoppedAtFault,
} from "@tessera/core";
import {
  type AuditMessage,
  canonicalHash,
  generateIdentity,
  signResult,
  type VerdictMessage,
  verifyVerdictSignature,
} from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { Engine } from "../engine/engine.js";
import { escrowFor } from "../engine/escrow.js";
import type { ProviderSession } from "../engine/sessions.js";
import type { VerificationCoordinator } from "./coordinator.js";

interface Template {
  /** the real job it was made of: its own result is never replayed under its spec */
  jobId: string;
  spec: JobRecord["spec"];
  outputHash: string;
  /** its known output and units: what a replayed known-wrong result must differ from (core's replayedKnownWrong) */
  output: ReplayResult["output"];
  units: ReplayResult["units"];
  jobClass: JobRecord["jobClass"];
  /** the real job's deadline, from its submission */
  deadlineMs: number;
  /** the operator of the real job's provider: a canary answered by another is a known-good result */
  operator: string | undefined;
  /** the verifiers that judged the real job: they would know its spec and output again */
  verifiers: string[];
}
/** a canary job open (submitted, not judged): the answer it must give, and its template's operator and verifiers */
interface OpenCanary {
  outputHash: string;
  templateOperator: string | undefined;
  templateVerifiers: string[];
}
/**
 * A known-good result for verifier canaries, sent as it is to a verifier that did not judge it.
 * Either a canary job that a provider of another operator than its template's answered byte for
 * byte (`reproduced`: never public as passed, sent to one verifier only as the canary job settles,
 * under a pending audit stored then, like any drawn audit's), or, with `auditedKnownGood`, a real
 * result an audit passed.
 */
interface KnownGood {
  jobId: string;
  verifiers: string[];
  providerOperator: string | undefined;
  /** for a reproduced canary job: the template's operator, whose verifiers do not get it either */
  templateOperator?: string | undefined;
}
interface CanaryAudit {
  verifierId: string;
  knownWrong: boolean;
  job: JobRecord;
  outputHash: string;
  /** stored as a pending audit when sent (a reproduced canary job's): decided when judged */
  stored: boolean;
  /** a real result replayed under another spec: its audit is decided void, judging nothing of its provider */
  replayed?: boolean;
}
/** a known-wrong canary drawn after a passed audit, waiting for a settled result to be made of */
interface OwedWrong {
  /** the passed job and its audit, for the old form if none comes in time */
  job: JobRecord;
  verifiers: string[];
  providerOperator: string | undefined;
  timer?: NodeJS.Timeout;
}

export interface CanaryDeps {
  engine: Engine;
  store: Store;
  coordinator: VerificationCoordinator;
  policy: CanaryPolicy;
  gatewayId: string;
  log: Logger;
  random?: () => number;
  now?: () => number;
}

export class CanaryService {
  private readonly templates: Template[] = [];
  /** canary job id → the output hash it must give; kept in the store too, so a restart still judges them */
  private readonly open = new Map<string, OpenCanary>();
  private readonly audits = new Map<string, CanaryAudit>();
  /** the latest passed results (ids: the output stays in the store), with `auditedKnownGood` only */
  private readonly knownGood: KnownGood[] = [];
  /**
   * verifiers that failed a real result when no known-good result was there for them, oldest first:
   * a canary job was submitted for each, and the next one reproduced by another operator is theirs
   */
  private readonly wanting: string[] = [];
  /** known-wrong canaries drawn, oldest first, each waiting for a result to replay (afterUnaudited) */
  private readonly owedWrong: OwedWrong[] = [];
  /**
   * per llm model, the widest tolerances its verdicts recorded (a verifier picks them from the model
   * file's weights): what a replayed result must miss by (core's replayedKnownWrong). The widest, so
   * that one verifier's metrics cannot narrow them.
   */
  private readonly tolerances = new Map<string, ReplayTolerances>();
  /** signs known-wrong results; it never runs jobs */
  private readonly ghost = generateIdentity();
  private readonly random: () => number;
  private readonly now: () => number;
  private injecting: Promise<void> = Promise.resolve();
  /** looks like any consumer id; derived from the gateway so it is the same after a restart */
  readonly consumerId: string;

  constructor(private readonly deps: CanaryDeps) {
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    const h = createHash("sha256").update(`tessera.canary.v1:${deps.gatewayId}`).digest("hex");
    this.consumerId = `c_${h.slice(0, 16)}`;
    // a canary that ends without a result (expired, cancelled, out of attempts) has nothing to judge;
    // one that ran out of fuel or trapped ended on a signed result, which is judged (the known answer did not)
    deps.engine.feed.on("job", (job) => {
      // every job change passes here: the map lookup first
      if (this.open.has(job.id) && isTerminal(job) && !endedOnResult(job))
        void this.forget(job.id).catch((err) => deps.log.warn({ err, jobId: job.id }, "open canary not forgotten"));
    });
  }

  /**
   * After a restart: picks up the canaries still open in the store (those queued or running are
   * judged when they settle; one that completed before the restart judged it is judged now) and
   * the known answers of the latest passed audits.
   */
  async restore(): Promise<void> {
    for (const c of await this.deps.store.verification.openCanaries()) {
      const job = this.deps.engine.activeJob(c.jobId) ?? (await this.deps.store.getJob(c.jobId));
      // the template's operator is not stored: a canary open across a restart is judged, and is no known-good result
      const open = { outputHash: c.outputHash, templateOperator: undefined, templateVerifiers: [] };
      if (job && endedOnResult(job)) {
        this.open.set(c.jobId, open);
        await this.judge(job);
      } else if (job && !isTerminal(job)) this.open.set(c.jobId, open);
      else await this.deps.store.verification.deleteOpenCanary(c.jobId);
    }
    if (this.open.size > 0) this.deps.log.info({ open: this.open.size }, "open canaries restored");
    // known answers again from the latest passed audits, so canaries need not wait for new ones
    const passed = (await this.deps.store.verification.recentAudits(this.deps.policy.maxTemplates * 4)).filter(
      (a) => a.status === "passed" && a.kind === "sampled",
    );
    for (const a of passed.reverse()) {
      const job = await this.deps.store.getJob(a.jobId);
      if (job?.status !== "completed" || !job.providerId) continue;
      const provider = await this.deps.store.getProvider(job.providerId);
      const operator = provider?.capabilities.operator ?? job.providerId;
      const verifiers = (await this.deps.store.verification.auditsOfJob(job.id)).flatMap((x) =>
        x.verdicts.map((v) => v.verifierId),
      );
      this.addTemplate(job, operator, [...new Set(verifiers)]);
      await this.readTolerances(job);
      if (this.deps.policy.auditedKnownGood) await this.restoreKnownGood(job, operator);
    }
  }

  /**
   * A passed result is a known-good canary again after a restart (the list is in memory): without
   * it, a verifier failing honest results went untested until new audits passed. Its verifiers are
   * every one whose verdict on the job is stored, the known-good canaries of it sent before the
   * restart included (stored under its job id), so that none is sent a job id it has seen.
   */
  private async restoreKnownGood(job: JobRecord, providerOperator: string): Promise<void> {
    if (this.open.has(job.id) || !job.outputHash || !job.providerId) return;
    if (this.knownGood.some((k) => k.jobId === job.id)) return;
    const verifiers = new Set(
      (await this.deps.store.verification.auditsOfJob(job.id)).flatMap((a) => a.verdicts.map((v) => v.verifierId)),
    );
    this.rememberKnownGood(this.knownGood, { jobId: job.id, verifiers: [...verifiers], providerOperator });
  }

  /** Keeps a known-good result, the newest maxTemplates of its kind. */
  private rememberKnownGood(list: KnownGood[], k: KnownGood): void {
    list.push(k);
    if (list.length > this.deps.policy.maxTemplates) list.shift();
  }

  get templateCount(): number {
    return this.templates.length;
  }

  isCanary(job: JobRecord): boolean {
    return this.open.has(job.id);
  }

  /** A real job settled: maybe mix a canary into the network's work, after a random wait. */
  afterRealJob(): void {
    if (this.templates.length === 0 || this.random() >= this.deps.policy.providerRate) return;
    this.injectAfter(canaryDelayMs(this.deps.policy.meanDelayMs, this.random()));
  }

  /** Submits a canary job after `delayMs`; `forVerifier`: one whose template that verifier never judged. */
  private injectAfter(delayMs: number, forVerifier?: string): void {
    // one draw at a time: two reading the canary balance at once would both fund, or both spend it
    const inject = () => {
      this.injecting = this.injecting
        .then(() => this.inject(forVerifier))
        .catch((err) => this.deps.log.warn({ err: (err as Error).message }, "canary not submitted"));
    };
    setTimeout(inject, delayMs).unref();
  }

  /** A canary job settled: compare with the known answer. */
  async judge(job: JobRecord): Promise<void> {
    const known = this.open.get(job.id);
    if (known === undefined || !job.providerId) return;
    await this.forget(job.id);
    const outcome = judgeProviderCanary(job.spec, known.outputHash, job.outputHash);
    const log = this.deps.log.child({ jobId: job.id, attempt: job.attempt, providerId: job.providerId });
    log.info({ outcome }, "canary judged");
    const rec = this.deps.coordinator.record(job.providerId);
    if (outcome === "passed") {
      rec.canariesPassed++;
      rec.cleanJobs++;
      // two providers of different operators gave the same bytes: a known-good result no audit made public
      const operator = await this.deps.coordinator.operatorOf(job.providerId);
      // it goes out now, as the job settles, as a drawn audit would: one held for later would show its
      // audit created long after the job finished, which a drawn audit never is
      if (independentlyReproduced(outcome, known.templateOperator, operator))
        await this.serveWanting(job, {
          jobId: job.id,
          verifiers: [...known.templateVerifiers],
          providerOperator: operator,
          templateOperator: known.templateOperator,
        });
    } else if (outcome === "caught") await this.deps.coordinator.catchProvider(job);
    else this.deps.coordinator.forceAudit(job);
  }

  /** An audit passed: the result becomes a known answer, and maybe a canary for another verifier. */
  onPassed(job: JobRecord, verifiers: string[], providerOperator?: string): void {
    if (this.open.has(job.id) || !job.outputHash) return;
    this.addTemplate(job, providerOperator ?? job.providerId ?? undefined, verifiers);
    void this.readTolerances(job).catch((err) =>
      this.deps.log.warn({ err, jobId: job.id }, "verdict tolerances not read"),
    );
    const audited = this.deps.policy.auditedKnownGood;
    const known: KnownGood = { jobId: job.id, verifiers: [...verifiers], providerOperator };
    if (audited) this.rememberKnownGood(this.knownGood, known);
    if (this.random() < this.deps.policy.verifierRate) {
      const chosen = this.pick(this.deps.coordinator.verifierCandidates(job, verifiers, providerOperator));
      if (!chosen) return;
      const knownWrong = this.random() < this.deps.policy.wrongShare;
      // the known-good one: this job (then not to be sent it again), or a canary job made for it
      if (knownWrong) this.oweWrong(job, verifiers, providerOperator);
      else if (!audited) this.want(chosen.id);
      else {
        known.verifiers.push(chosen.id);
        this.sendVerifierCanary(job, chosen, false);
      }
    }
  }

  /**
   * A verifier failed a real result: at `failRate`, after the usual random wait, it gets a passed
   * result it did not judge, which it must pass. A griefer failing honest results to share their
   * slashes fails these too, and each is a strike and, with --min-stake, a slash of its own stake;
   * after passed audits alone (verifierRate, half of them known-wrong, to any verifier) it would
   * have judged hundreds of results before its second strike.
   */
  afterFailed(verifierId: string): void {
    if (this.knownGood.length + this.templates.length === 0 || this.random() >= this.deps.policy.failRate) return;
    const delay = canaryDelayMs(this.deps.policy.meanDelayMs, this.random());
    setTimeout(
      () =>
        void this.knownGoodAfterFail(verifierId).catch((err) =>
          this.deps.log.warn({ err, verifierId }, "known-good canary not sent"),
        ),
      delay,
    ).unref();
  }

  /** With `auditedKnownGood`, a passed result the verifier did not judge; else a canary job made for it. */
  private async knownGoodAfterFail(verifierId: string): Promise<void> {
    if (this.deps.policy.auditedKnownGood && (await this.sendAuditedKnownGood(verifierId))) return;
    this.want(verifierId);
  }

  /**
   * A known-wrong canary is due: it is made of the next real result that settles undrawn and can be
   * replayed under a template's spec (afterUnaudited); none within `replayWaitMs`, the passed result
   * goes out corrupted under a throw-away identity (ghost), as before.
   */
  private oweWrong(job: JobRecord, verifiers: string[], providerOperator: string | undefined): void {
    const owed: OwedWrong = { job, verifiers: [...verifiers], providerOperator };
    this.owedWrong.push(owed);
    // more waiting than are kept: the one waiting longest goes out now, in the old form (dropping it
    // instead would, on a network that audits every result, have dropped every one before its time)
    if (this.owedWrong.length > this.deps.policy.maxTemplates) this.sendGhost(this.owedWrong[0] as OwedWrong);
    if (this.deps.policy.replayWaitMs === 0) {
      this.sendGhost(owed);
      return;
    }
    owed.timer = setTimeout(() => this.sendGhost(owed), this.deps.policy.replayWaitMs);
    owed.timer.unref();
  }

  /** A known-wrong canary still owed goes out in the old form: the passed result corrupted, signed by a throw-away identity. */
  private sendGhost(owed: OwedWrong): void {
    const i = this.owedWrong.indexOf(owed);
    if (i < 0) return;
    this.owedWrong.splice(i, 1);
    clearTimeout(owed.timer);
    const candidates = this.deps.coordinator.verifierCandidates(owed.job, owed.verifiers, owed.providerOperator);
    const chosen = this.pick(candidates);
    if (chosen) this.sendVerifierCanary(owed.job, chosen, true);
  }

  /**
   * A real result settled and was not drawn for audit: if a known-wrong canary is due and a
   * template's input makes it fail with certainty (core's replayedKnownWrong), it goes to a
   * verifier now, as a drawn audit would as the job settles: the genuine signed result under its own
   * spec with the template's input, with a pending audit of the job stored first. A sampled result
   * serves as well as a greedy one. Templates whose prompt has as many tokens as the result claims
   * come first (a metering recount alone does not tell them); others are used when there is none.
   * The verifier is one of another operator than the job's provider and the template's, that did
   * not judge the template.
   */
  afterUnaudited(job: JobRecord): void {
    if (this.owedWrong.length === 0 || this.open.has(job.id) || job.consumerId === this.consumerId) return;
    if (job.status !== "completed" || !job.providerId || !job.output || !job.outputHash) return;
    if (!job.units || !job.signature) return;
    const result: ReplayResult = { spec: job.spec, output: job.output, outputHash: job.outputHash, units: job.units };
    const tol = job.spec.runtime === "llm" ? this.tolerances.get(job.spec.model) : undefined;
    const fits = this.templates.flatMap((t) => {
      if (t.jobId === job.id) return [];
      const fit = replayedKnownWrong(result, t, tol);
      return fit ? [{ t, fit }] : [];
    });
    const candidates = this.deps.coordinator.verifierCandidates(job, []);
    for (const group of [fits.filter((f) => f.fit.sameInputCount), fits.filter((f) => !f.fit.sameInputCount)]) {
      const pairs = group.flatMap(({ t, fit }) =>
        candidates
          .filter((s) => !t.verifiers.includes(s.id) && (s.capabilities.operator ?? s.id) !== t.operator)
          .map((s) => ({ t, fit, s })),
      );
      const pair = this.pick(pairs);
      if (!pair) continue;
      const owed = this.owedWrong.shift() as OwedWrong;
      clearTimeout(owed.timer);
      // it would know the template's spec and answer again
      pair.t.verifiers.push(pair.s.id);
      void this.sendReplayed(job, pair.fit.spec, pair.s).catch((err) =>
        this.deps.log.warn({ err, jobId: job.id }, "replayed known-wrong canary not sent"),
      );
      return;
    }
  }

  /** Stores the pending audit of `job` (as a drawn audit's), then sends its result under `spec` (the template's input). */
  private async sendReplayed(job: JobRecord, spec: JobRecord["spec"], chosen: ProviderSession): Promise<void> {
    // while undecided it holds the job's cost against its provider's stake, as a drawn audit does: the
    // jobs the provider may be leased meanwhile do not tell it that no slash can come of this one
    const auditId = await this.storePendingAudit(job, (id) => this.deps.coordinator.holdStake(id, job));
    this.sendVerifierCanary(job, chosen, true, auditId, spec);
  }

  /**
   * The public record of a canary audit of a real job as it is sent: a pending `sampled` audit,
   * as for any drawn audit; the coordinator leaves it to this service. Returns its id.
   */
  private async storePendingAudit(job: JobRecord, beforeStore?: (auditId: string) => void): Promise<string> {
    const auditId = `aud_${randomBytes(8).toString("hex")}`;
    this.deps.coordinator.ownCanaryAudit(auditId, true);
    beforeStore?.(auditId);
    await this.deps.store.verification.putAudit({
      id: auditId,
      jobId: job.id,
      providerId: job.providerId as string,
      status: "pending",
      kind: "sampled",
      createdAt: this.now(),
      decidedAt: null,
    });
    return auditId;
  }

  /**
   * A canary job is submitted now, from a template the verifier did not judge; once a provider of
   * another operator than the template's has reproduced it, it goes to this verifier as it settles
   * (serveWanting), or to the verifier waiting longest that can take it. A natural canary job (after
   * real jobs, at `providerRate`) serves them too.
   */
  private want(verifierId: string): void {
    if (this.templates.length === 0) return;
    this.wanting.push(verifierId);
    if (this.wanting.length > this.deps.policy.maxTemplates) this.wanting.shift();
    this.injectAfter(0, verifierId);
  }

  /**
   * A reproduced canary job settled: to the verifier waiting longest that can take it, and to that
   * one only (its public record shows the audit once judged, which would tell the next).
   */
  private async serveWanting(job: JobRecord, k: KnownGood): Promise<void> {
    for (const v of [...this.wanting]) {
      if (this.deps.coordinator.isExcluded(v)) {
        this.wanting.splice(this.wanting.indexOf(v), 1);
        continue;
      }
      const chosen = this.judgeOf(job, k, v);
      if (!chosen) continue;
      this.wanting.splice(this.wanting.indexOf(v), 1);
      // the public record shows a pending audit of it, as of any real result being audited
      const auditId = await this.storePendingAudit(job);
      this.sendVerifierCanary(job, chosen, false, auditId);
      return;
    }
    this.deps.log.info({ jobId: job.id }, "no waiting verifier can judge this known-good result");
  }

  /** With `auditedKnownGood`: a passed real result the verifier did not judge, the newest first. */
  private async sendAuditedKnownGood(verifierId: string): Promise<boolean> {
    for (const k of [...this.knownGood].reverse()) {
      if (k.verifiers.includes(verifierId)) continue;
      const job = await this.deps.store.getJob(k.jobId);
      if (job?.status !== "completed" || !this.knownGood.includes(k)) continue;
      const chosen = this.judgeOf(job, k, verifierId);
      if (!chosen) continue;
      this.sendVerifierCanary(job, chosen, false);
      return true;
    }
    return false;
  }

  /**
   * The verifier's session if it may judge this known-good result (not of its provider's or its
   * template's operator, nor sent it before), marked as sent it: never the same result twice to one
   * verifier, as a job id seen before would mark it a canary.
   */
  private judgeOf(job: JobRecord, k: KnownGood, verifierId: string): ProviderSession | undefined {
    if (k.verifiers.includes(verifierId)) return undefined;
    const chosen = this.deps.coordinator
      .verifierCandidates(job, k.verifiers, k.providerOperator)
      .find((s) => s.id === verifierId && (s.capabilities.operator ?? s.id) !== k.templateOperator);
    if (chosen) k.verifiers.push(verifierId);
    return chosen;
  }

  private addTemplate(job: JobRecord, operator: string | undefined, verifiers: string[]): void {
    // a job that stopped at its fault is no known answer: a trap's wording may differ between engines,
    // and a canary of one that ran out of fuel would burn a whole fuel limit to teach nothing more
    if (!isTemplateCandidate(job.spec) || job.consumerId === this.consumerId || stoppedAtFault(job.output)) return;
    if (job.deadlineAt === null || !job.outputHash) return;
    const deadlineMs = job.deadlineAt - job.createdAt;
    if (!job.output || !job.units) return;
    this.templates.push({
      jobId: job.id,
      spec: job.spec,
      outputHash: job.outputHash,
      output: job.output,
      units: job.units,
      jobClass: job.jobClass,
      deadlineMs,
      operator,
      verifiers: [...verifiers],
    });
    if (this.templates.length > this.deps.policy.maxTemplates) this.templates.shift();
  }

  /** The tolerances the verdicts on an llm job recorded, widening its model's. */
  private async readTolerances(job: JobRecord): Promise<void> {
    if (job.spec.runtime !== "llm") return;
    for (const a of await this.deps.store.verification.auditsOfJob(job.id))
      for (const v of a.verdicts) this.noteTolerances(job.spec.model, v.report.metrics);
  }

  private noteTolerances(model: string, metrics: Record<string, number>): void {
    const logprob = metrics.logprobToleranceNats;
    const greedy = metrics.greedyGapToleranceNats;
    if (typeof logprob !== "number" || typeof greedy !== "number") return;
    const had = this.tolerances.get(model);
    this.tolerances.set(model, {
      logprobDiffNats: Math.max(logprob, had?.logprobDiffNats ?? 0),
      greedyGapNats: Math.max(greedy, had?.greedyGapNats ?? 0),
    });
  }

  /** Whether a verdict on this canary audit is still awaited from this verifier. */
  awaitsVerdict(auditId: string, verifierId: string): boolean {
    return this.audits.get(auditId)?.verifierId === verifierId;
  }

  /** Handles a verdict if it answers a canary audit; false when it is not one of ours. */
  async onVerdict(session: ProviderSession, msg: VerdictMessage): Promise<boolean> {
    const a = this.audits.get(msg.auditId);
    if (!a) return false;
    if (a.verifierId !== session.id) return true;
    const claim = { auditId: msg.auditId, jobId: a.job.id, outputHash: a.outputHash, pass: msg.report.pass };
    if (msg.jobId !== a.job.id || !verifyVerdictSignature(session.id, claim, msg.signature)) return true;
    this.audits.delete(msg.auditId);
    if (a.job.spec.runtime === "llm") this.noteTolerances(a.job.spec.model, msg.report.metrics);
    // paid like a real audit's verdict, so unpaid when inconclusive like one; and judged all the same
    const inconclusive = msg.report.metrics.inconclusive === 1;
    if (!inconclusive) await this.deps.coordinator.payCanaryFee(msg.auditId, a.job, session.id);
    const outcome = judgeVerifierCanary(a.knownWrong, msg.report.pass, inconclusive);
    await this.decideStored(msg.auditId, a);
    await this.deps.store.verification.putVerdict({
      auditId: msg.auditId,
      verifierId: session.id,
      jobId: a.job.id,
      pass: msg.report.pass,
      report: msg.report,
      signature: msg.signature,
      elapsedMs: msg.elapsedMs,
      at: this.now(),
    });
    await this.deps.coordinator.judgeVerifier(
      session.id,
      outcome,
      a.knownWrong,
      inconclusive ? undefined : { auditId: msg.auditId, jobId: a.job.id },
    );
    const level = outcome === "correct" ? "info" : "warn";
    this.deps.log[level](
      { verifierId: session.id, knownWrong: a.knownWrong, inconclusive, outcome },
      "verifier canary judged",
    );
    return true;
  }

  /**
   * A canary audit's row, decided (a stored pending one is released to the coordinator's view). A
   * replayed known-wrong one is `void`: the record shows a canary audit that judged nothing of the
   * job's provider (its result was right for its own spec), no failed audit of its work.
   */
  private async decideStored(auditId: string, a: CanaryAudit): Promise<void> {
    await this.deps.store.verification.putAudit({
      id: auditId,
      jobId: a.job.id,
      providerId: a.job.providerId as string,
      status: a.replayed ? "void" : a.knownWrong ? "slashed" : "passed",
      kind: "canary",
      createdAt: this.now(),
      decidedAt: this.now(),
    });
    if (a.stored) this.deps.coordinator.ownCanaryAudit(auditId, false);
    if (a.replayed) this.deps.coordinator.releaseStake(auditId);
  }

  /**
   * Sends a canary audit. Known-good: the result as it is. Known-wrong: with `replaySpec`, the
   * genuine result under that spec (stored pending under `storedId`); without, the old form.
   */
  private sendVerifierCanary(
    job: JobRecord,
    chosen: ProviderSession,
    knownWrong: boolean,
    storedId?: string,
    replaySpec?: JobRecord["spec"],
  ): void {
    if (!job.output || !job.units || !job.signature || !job.outputHash) return;
    const auditId = storedId ?? `aud_${randomBytes(8).toString("hex")}`;
    let msg: AuditMessage;
    let canaryJob = job;
    if (knownWrong && !replaySpec) {
      const output = corruptOutput(job.output, this.random());
      const outputHash = canonicalHash(output);
      const jobId = `job_${this.now().toString(16).padStart(12, "0")}${randomBytes(8).toString("hex")}`;
      const claim = { jobId, attempt: 1, outputHash, units: job.units };
      canaryJob = { ...job, id: jobId, attempt: 1, output, outputHash, providerId: this.ghost.id };
      msg = {
        type: "audit",
        auditId,
        jobId,
        attempt: 1,
        providerId: this.ghost.id,
        spec: job.spec,
        output: output as AuditMessage["output"],
        outputHash,
        units: job.units as AuditMessage["units"],
        signature: signResult(this.ghost, claim),
      };
    } else {
      msg = {
        type: "audit",
        auditId,
        jobId: job.id,
        attempt: job.attempt,
        providerId: job.providerId as string,
        spec: replaySpec ?? job.spec,
        output: job.output as AuditMessage["output"],
        outputHash: job.outputHash,
        units: job.units as AuditMessage["units"],
        signature: job.signature,
      };
    }
    this.audits.set(auditId, {
      verifierId: chosen.id,
      knownWrong,
      job: canaryJob,
      outputHash: msg.outputHash,
      stored: storedId !== undefined,
      ...(replaySpec ? { replayed: true } : {}),
    });
    // unanswered after a while, it is judged as an inconclusive answer would be (a strike, no burn):
    // silence must cost what refusing to judge does, or a verifier leaves unanswered what it takes
    // for a canary (say, whatever comes soon after its fail) and escapes it
    setTimeout(
      () =>
        void this.unanswered(auditId).catch((err) =>
          this.deps.log.warn({ err, auditId }, "unanswered verifier canary not judged"),
        ),
      this.deps.policy.unansweredMs,
    ).unref();
    this.deps.log.info({ verifierId: chosen.id, knownWrong, jobId: msg.jobId, auditId }, "verifier canary sent");
    chosen.send(msg);
  }

  private async unanswered(auditId: string): Promise<void> {
    const a = this.audits.get(auditId);
    if (!a) return;
    this.audits.delete(auditId);
    this.deps.log.warn(
      { verifierId: a.verifierId, auditId, knownWrong: a.knownWrong },
      "verifier canary unanswered: judged as an inconclusive answer",
    );
    if (a.stored) await this.decideStored(auditId, a);
    await this.deps.coordinator.judgeVerifier(
      a.verifierId,
      judgeVerifierCanary(a.knownWrong, true, true),
      a.knownWrong,
    );
  }

  private async inject(forVerifier?: string): Promise<void> {
    let templates = this.templates;
    if (forVerifier !== undefined) {
      // neither one it judged (it would know the spec and output again) nor its own operator's
      const operator = await this.deps.coordinator.operatorOf(forVerifier);
      templates = templates.filter((x) => !x.verifiers.includes(forVerifier) && x.operator !== operator);
    }
    const t = templates[Math.floor(this.random() * templates.length)];
    if (!t) {
      this.deps.log.info({ verifierId: forVerifier }, "no template this verifier did not judge: no canary job for it");
      return;
    }
    const { engine, store } = this.deps;
    const escrow = escrowFor(t.spec, {}, engine.onlineSessions(), engine.models);
    const account = stakeAccounts.available(this.consumerId);
    const [have, fees] = await Promise.all([store.balance(account), store.balance(FEES)]);
    const draw = canaryDraw(escrow, have, fees, this.deps.policy.reserve);
    if (draw === null) {
      this.deps.log.info({ escrow: escrow.toString(), fees: fees.toString() }, "fees cannot pay for a canary yet");
      return;
    }
    if (!draw.submit) {
      const ev = canaryFundEvent(`canary:fund:${randomBytes(8).toString("hex")}`, account, draw.fund, this.now());
      const r = await engine.writer.write({ ledger: ev });
      if (!r.ok) throw r.error;
      this.deps.log.info({ fund: draw.fund.toString() }, "canary account funded; a later draw submits");
      return;
    }
    // streamed as often as real jobs of its class are: a lease tells the provider whether a client streams
    const share = engine.llmSubmits.get(t.jobClass);
    const stream = t.spec.runtime === "llm" && canaryStreams(share?.streamed ?? 0, share?.total ?? 0, this.random());
    const job = await engine.submit({
      consumerId: this.consumerId,
      spec: t.spec,
      constraints: {},
      requestHash: canonicalHash({ spec: t.spec, n: randomBytes(8).toString("hex") }),
      jobClass: t.jobClass,
      deadlineMs: t.deadlineMs,
      ...(stream ? { stream: true } : {}),
    });
    this.open.set(job.id, { outputHash: t.outputHash, templateOperator: t.operator, templateVerifiers: t.verifiers });
    await store.verification.putOpenCanary({ jobId: job.id, outputHash: t.outputHash, createdAt: job.createdAt });
    this.deps.log.info({ jobId: job.id }, "canary job submitted");
  }

  private async forget(jobId: string): Promise<void> {
    this.open.delete(jobId);
    await this.deps.store.verification.deleteOpenCanary(jobId);
  }

  private pick<T>(xs: T[]): T | undefined {
    return xs[Math.floor(this.random() * xs.length)];
  }
}
