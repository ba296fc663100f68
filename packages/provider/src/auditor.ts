// The verifier role (`tessera provider --verify`): re-checks results the gateway sends for audit
// with the runtimes' `verify`, and answers with a verdict signed by this node. Audits share the
// node's runtimes (an LLM audit takes a model slot like a job), so they are limited by concurrency.
import {
  type AuditMessage,
  canonicalHash,
  type Identity,
  MAX_HEARTBEAT_AUDITS,
  type ProviderMessage,
  signVerdict,
  type VerdictReport,
  verifyResultSignature,
} from "@tessera/protocol";
import type { Runtime } from "@tessera/runtimes";
import type { Logger } from "pino";
import type { EvidenceContext } from "./evidence.js";
import type { ProviderRuntimes } from "./runtimes.js";
import type { WasmMemoryBudget } from "./wasm-memory.js";

export interface AuditorOptions {
  identity: Identity;
  runtimes: ProviderRuntimes;
  log: Logger;
  send(msg: ProviderMessage): boolean;
  /** on-chain settlement: sign each verdict as an EIP-712 Verdict too (evidence.ts) */
  evidence?: EvidenceContext;
  /**
   * the provider-wide WASM memory budget: a WASM audit re-executes the job, so it reserves the
   * job's memory limit like a leased job, waiting its turn; one over the whole budget cannot run
   * (inconclusive, as any audit that cannot run)
   */
  wasmMemory?: WasmMemoryBudget;
  /**
   * the WASM memory the audits in hand hold or wait for changed (a WASM audit came or ended): the
   * provider heartbeats at once, so the gateway's scheduler does not lease into it meanwhile
   */
  onHeldChanged?: () => void;
}

/** An audit in hand: how to drop it, and the MiB of the WASM memory budget it holds or waits for. */
interface HeldAudit {
  controller: AbortController;
  wasmMemoryMb: number;
}

/** The audits in hand as a heartbeat lists them (HeartbeatMsg.audits). */
export interface HeldAuditRef {
  auditId: string;
  wasmMemoryMb: number;
}

export class Auditor {
  private readonly controller = new AbortController();
  /** audits being checked or waiting for memory, by audit id */
  private readonly held = new Map<string, HeldAudit>();
  audited = 0;
  /** audits dropped because the gateway cancelled them (audit_cancel) */
  cancelled = 0;

  constructor(private readonly options: AuditorOptions) {}

  handleAudit(msg: AuditMessage): void {
    // a copy of an audit in hand (a gateway that restarted asks again) is checked once
    if (this.held.has(msg.auditId)) return;
    void this.audit(msg);
  }

  /**
   * The gateway awaits this audit's verdict from here no more (decided, or given to another
   * verifier): dropped, whether checking or waiting for memory, and no verdict is sent.
   */
  cancel(auditId: string, reason: string): void {
    const held = this.held.get(auditId);
    if (!held) return;
    this.options.log.info({ auditId, reason }, "audit cancelled by the gateway");
    held.controller.abort(new Error(`audit cancelled: ${reason}`));
  }

  /** The audits in hand, for the heartbeat; those holding WASM memory first when there are more than it lists. */
  heldAudits(): HeldAuditRef[] {
    const refs = [...this.held].map(([auditId, h]) => ({ auditId, wasmMemoryMb: h.wasmMemoryMb }));
    if (refs.length <= MAX_HEARTBEAT_AUDITS) return refs;
    return refs.sort((a, b) => b.wasmMemoryMb - a.wasmMemoryMb).slice(0, MAX_HEARTBEAT_AUDITS);
  }

  /**
   * An audit this node did not offer to take (started without --verify): answered at once with an
   * inconclusive verdict saying why, so the gateway asks another verifier instead of waiting out
   * its timeout (an inconclusive verdict earns no fee and counts against no one).
   */
  decline(msg: AuditMessage, reason: string): void {
    this.options.log.warn({ jobId: msg.jobId, auditId: msg.auditId, reason }, "audit not taken: answered inconclusive");
    void this.audit(msg, reason);
  }

  stop(): void {
    this.controller.abort(new Error("provider stopped"));
  }

  private async audit(msg: AuditMessage, declined?: string): Promise<void> {
    try {
      await this.run(msg, declined);
    } finally {
      if (declined === undefined) this.release(msg.auditId);
    }
  }

  /** Takes an audit in hand: listed in heartbeats, its WASM memory counted, until it ends. */
  private hold(msg: AuditMessage): HeldAudit {
    const budget = this.options.wasmMemory;
    const mb = msg.spec.runtime === "wasm" && budget ? msg.spec.limits.maxMemoryMb : 0;
    // one over the whole budget never holds any: it is answered inconclusive at once
    const held = { controller: new AbortController(), wasmMemoryMb: budget?.refusal(mb) ? 0 : mb };
    this.held.set(msg.auditId, held);
    if (held.wasmMemoryMb > 0) this.options.onHeldChanged?.();
    return held;
  }

  private release(auditId: string): void {
    const held = this.held.get(auditId);
    if (!held) return;
    this.held.delete(auditId);
    if (held.wasmMemoryMb > 0) this.options.onHeldChanged?.();
  }

  private async run(msg: AuditMessage, declined?: string): Promise<void> {
    const log = this.options.log.child({ jobId: msg.jobId, attempt: msg.attempt, auditId: msg.auditId });
    const started = performance.now();
    const own = declined === undefined ? this.hold(msg) : undefined;
    const signal = own ? AbortSignal.any([this.controller.signal, own.controller.signal]) : this.controller.signal;
    let report: VerdictReport;
    try {
      report =
        declined === undefined
          ? await this.check(msg, signal)
          : { pass: true, reasons: [declined], checks: [], metrics: { inconclusive: 1 } };
    } catch (err) {
      if (own?.controller.signal.aborted) this.cancelled++;
      if (signal.aborted) return;
      // Could not check (model not here, runtime error): no verdict against the provider.
      log.warn({ err: (err as Error).message }, "audit could not run");
      report = { pass: true, reasons: [], checks: [], metrics: { inconclusive: 1 } };
    }
    // cancelled while the check ended: the gateway takes no verdict on it from here
    if (own?.controller.signal.aborted) {
      this.cancelled++;
      return;
    }
    if (declined === undefined) this.audited++;
    const elapsedMs = Math.round(performance.now() - started);
    log.info({ pass: report.pass, reasons: report.reasons, metrics: report.metrics, elapsedMs }, "audit done");
    const claim = { auditId: msg.auditId, jobId: msg.jobId, outputHash: msg.outputHash, pass: report.pass };
    let chain: { issuedAt: number; signature: string } | undefined;
    try {
      chain = await this.signEvidence(msg, report.pass);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "verdict evidence not signed");
    }
    this.options.send({
      type: "verdict",
      auditId: msg.auditId,
      jobId: msg.jobId,
      report,
      signature: signVerdict(this.options.identity, claim),
      elapsedMs,
      ...(chain ? { chain } : {}),
    });
  }

  /** The EIP-712 Verdict(result, valid, issuedAt) on the very Result the provider signed. */
  private async signEvidence(msg: AuditMessage, valid: boolean) {
    const ctx = this.options.evidence;
    const domain = ctx?.domain();
    if (!msg.evidence || !ctx || !domain) return undefined;
    const issuedAt = Math.floor(Date.now() / 1000);
    const result = {
      jobId: msg.jobId,
      attempt: msg.attempt,
      outputHash: msg.outputHash,
      standardUnits: msg.units.standardUnits,
      consumer: msg.evidence.consumer,
      cost: BigInt(msg.evidence.cost),
    };
    return { issuedAt, signature: await ctx.signer.signVerdict(domain, result, valid, issuedAt) };
  }

  private async check(msg: AuditMessage, signal: AbortSignal): Promise<VerdictReport> {
    const claim = { jobId: msg.jobId, attempt: msg.attempt, outputHash: msg.outputHash, units: msg.units };
    if (canonicalHash(msg.output) !== msg.outputHash || !verifyResultSignature(msg.providerId, claim, msg.signature))
      return {
        pass: false,
        reasons: ["the provider's signature does not cover this output"],
        checks: ["signature"],
        metrics: {},
      };
    const runtime = this.options.runtimes[msg.spec.runtime] as Runtime | undefined;
    if (!runtime?.verify) throw new Error(`this node cannot verify ${msg.spec.runtime} results`);
    const budget = this.options.wasmMemory;
    const returnMemory =
      msg.spec.runtime === "wasm" && budget ? await budget.reserve(msg.spec.limits.maxMemoryMb, signal) : undefined;
    try {
      return await runtime.verify(
        msg.spec,
        { output: msg.output, units: msg.units },
        { jobId: msg.jobId, providerId: msg.providerId, signal },
      );
    } finally {
      returnMemory?.();
    }
  }
}
