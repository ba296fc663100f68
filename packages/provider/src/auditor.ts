// The verifier role (`tessera provider --verify`): re-checks results the gateway sends for audit
// with the runtimes' `verify`, and answers with a verdict signed by this node. Audits share the
// node's runtimes (an LLM audit takes a model slot like a job), so they are limited by concurrency.
import {
  type AuditMessage,
  canonicalHash,
  type Identity,
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
}

export class Auditor {
  private readonly controller = new AbortController();
  audited = 0;

  constructor(private readonly options: AuditorOptions) {}

  handleAudit(msg: AuditMessage): void {
    void this.audit(msg);
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
    const log = this.options.log.child({ jobId: msg.jobId, attempt: msg.attempt, auditId: msg.auditId });
    const started = performance.now();
    let report: VerdictReport;
    try {
      report =
        declined === undefined
          ? await this.check(msg)
          : { pass: true, reasons: [declined], checks: [], metrics: { inconclusive: 1 } };
    } catch (err) {
      if (this.controller.signal.aborted) return;
      // Could not check (model not here, runtime error): no verdict against the provider.
      log.warn({ err: (err as Error).message }, "audit could not run");
      report = { pass: true, reasons: [], checks: [], metrics: { inconclusive: 1 } };
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

  private async check(msg: AuditMessage): Promise<VerdictReport> {
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
      msg.spec.runtime === "wasm" && budget
        ? await budget.reserve(msg.spec.limits.maxMemoryMb, this.controller.signal)
        : undefined;
    try {
      return await runtime.verify(
        msg.spec,
        { output: msg.output, units: msg.units },
        { jobId: msg.jobId, providerId: msg.providerId, signal: this.controller.signal },
      );
    } finally {
      returnMemory?.();
    }
  }
}
