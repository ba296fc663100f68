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
import type { ProviderRuntimes } from "./runtimes.js";

export interface AuditorOptions {
  identity: Identity;
  runtimes: ProviderRuntimes;
  log: Logger;
  send(msg: ProviderMessage): boolean;
}

export class Auditor {
  private readonly controller = new AbortController();
  audited = 0;

  constructor(private readonly options: AuditorOptions) {}

  handleAudit(msg: AuditMessage): void {
    void this.audit(msg);
  }

  stop(): void {
    this.controller.abort(new Error("provider stopped"));
  }

  private async audit(msg: AuditMessage): Promise<void> {
    const log = this.options.log.child({ jobId: msg.jobId, attempt: msg.attempt, auditId: msg.auditId });
    const started = performance.now();
    let report: VerdictReport;
    try {
      report = await this.check(msg);
    } catch (err) {
      if (this.controller.signal.aborted) return;
      // Could not check (model not here, runtime error): no verdict against the provider.
      log.warn({ err: (err as Error).message }, "audit could not run");
      report = { pass: true, reasons: [], checks: [], metrics: { inconclusive: 1 } };
    }
    this.audited++;
    const elapsedMs = Math.round(performance.now() - started);
    log.info({ pass: report.pass, reasons: report.reasons, metrics: report.metrics, elapsedMs }, "audit done");
    const claim = { auditId: msg.auditId, jobId: msg.jobId, outputHash: msg.outputHash, pass: report.pass };
    this.options.send({
      type: "verdict",
      auditId: msg.auditId,
      jobId: msg.jobId,
      report,
      signature: signVerdict(this.options.identity, claim),
      elapsedMs,
    });
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
    return runtime.verify(
      msg.spec,
      { output: msg.output, units: msg.units },
      { jobId: msg.jobId, providerId: msg.providerId, signal: this.controller.signal },
    );
  }
}
