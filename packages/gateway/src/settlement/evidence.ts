// Slashing evidence at the gateway under on-chain settlement. Leases tell the provider what its
// EIP-712 Result covers (the consumer's custodial address and the cost basis); results and
// verdicts arrive signed with the node's eth key, are checked against the address the node
// advertised (whose stake the registry holds) and stored with the job and its audit.
import {
  type Deployment,
  type ResultEvidence,
  recoverResultSigner,
  recoverVerdictSigner,
  signedBy,
} from "@tessera/chain";
import type { JobRecord } from "@tessera/core";
import type { AuditMessage, LeaseEvidence, ResultMessage, VerdictMessage } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import { type Address, getAddress } from "viem";
import type { ProviderSession } from "../engine/sessions.js";
import type { Custody } from "./custody.js";

/**
 * How far a verdict's signed issuedAt (seconds) may be from the gateway's clock. The Slashing
 * contract trusts issuedAt to tell whether a verdict came after a canary's commitment, so a
 * verifier backdating it would be immune to canary slashing; verifiers sign it as they answer.
 */
export const VERDICT_CLOCK_WINDOW_S = 300;

export interface ChainEvidenceDeps {
  store: Store;
  deployment: Deployment;
  custody: Custody;
  /** a consumer's own bound address, when it signs its own vouchers (slash refunds go there) */
  ownAddress?: (consumerId: string) => Address | undefined;
  now?: () => number;
}

export class ChainEvidence {
  private readonly now: () => number;
  constructor(private readonly d: ChainEvidenceDeps) {
    this.now = d.now ?? Date.now;
  }

  domain() {
    return { chainId: this.d.deployment.chainId, slashing: this.d.deployment.slashing };
  }

  /** Only a provider with an eth address can sign (and be slashed on chain). */
  leaseEvidence(job: JobRecord, session: ProviderSession): LeaseEvidence | undefined {
    if (!session.capabilities.ethAddress || job.pricePerUnit === null) return undefined;
    return {
      consumer: this.d.ownAddress?.(job.consumerId) ?? this.d.custody.account(job.consumerId).address,
      pricePerUnit: job.pricePerUnit,
      maxCost: job.escrow.toString(),
    };
  }

  /** The Result the provider must have signed for this result message, or undefined when none is due. */
  expectedResult(job: JobRecord, session: ProviderSession, msg: ResultMessage): ResultEvidence | undefined {
    const ev = this.leaseEvidence(job, session);
    if (!ev) return undefined;
    const billed = BigInt(msg.units.standardUnits) * BigInt(ev.pricePerUnit);
    const cap = BigInt(ev.maxCost);
    return {
      jobId: job.id,
      attempt: msg.attempt,
      outputHash: msg.outputHash,
      standardUnits: msg.units.standardUnits,
      consumer: ev.consumer,
      cost: billed < cap ? billed : cap,
    };
  }

  async acceptResult(job: JobRecord, session: ProviderSession, msg: ResultMessage): Promise<string | undefined> {
    const expected = this.expectedResult(job, session, msg);
    const address = session.capabilities.ethAddress;
    if (!expected || !address) return undefined;
    if (!msg.chainSignature) return "no EIP-712 result signature (the gateway settles on chain)";
    const sig = msg.chainSignature;
    if (!(await signedBy(() => recoverResultSigner(this.domain(), expected, sig), address)))
      return "EIP-712 result signature is not by the provider's registered eth address";
    await this.d.store.chain.putResult({
      jobId: job.id,
      attempt: msg.attempt,
      providerId: session.id,
      providerAddress: address.toLowerCase(),
      consumerAddress: expected.consumer.toLowerCase(),
      standardUnits: expected.standardUnits,
      outputHash: expected.outputHash,
      cost: expected.cost,
      signature: sig,
      at: this.now(),
    });
    return undefined;
  }

  private async resultOf(job: JobRecord): Promise<(ResultEvidence & { signature: string }) | undefined> {
    const r = await this.d.store.chain.result(job.id, job.attempt);
    if (!r) return undefined;
    return {
      jobId: r.jobId,
      attempt: r.attempt,
      outputHash: r.outputHash,
      standardUnits: r.standardUnits,
      consumer: getAddress(r.consumerAddress),
      cost: r.cost,
      signature: r.signature,
    };
  }

  /** What a verifier needs to sign a Verdict on the exact Result the provider signed. */
  async auditEvidence(job: JobRecord): Promise<AuditMessage["evidence"]> {
    const r = await this.resultOf(job);
    if (!r) return undefined;
    return { consumer: r.consumer, cost: r.cost.toString(), providerSignature: r.signature };
  }

  /**
   * A verdict on a result that carries evidence must carry the verifier's EIP-712 Verdict, signed
   * by the eth address it advertises; returns why it is refused, or undefined once stored.
   */
  async acceptVerdict(
    auditId: string,
    job: JobRecord,
    session: ProviderSession,
    msg: VerdictMessage,
  ): Promise<string | undefined> {
    const r = await this.resultOf(job);
    if (!r) return undefined;
    const address = session.capabilities.ethAddress;
    if (!address) return "verifier advertises no eth address";
    if (!msg.chain) return "no EIP-712 verdict signature (the gateway settles on chain)";
    const { issuedAt, signature } = msg.chain;
    const valid = msg.report.pass;
    const skew = issuedAt - Math.floor(this.now() / 1000);
    if (skew > VERDICT_CLOCK_WINDOW_S || skew < -VERDICT_CLOCK_WINDOW_S)
      return `verdict issuedAt ${issuedAt} is ${skew} s from the gateway's clock (at most ${VERDICT_CLOCK_WINDOW_S} s either way)`;
    if (!(await signedBy(() => recoverVerdictSigner(this.domain(), r, valid, issuedAt, signature), address)))
      return "EIP-712 verdict signature is not by the verifier's registered eth address";
    await this.d.store.chain.putVerdict({
      auditId,
      verifierId: session.id,
      jobId: job.id,
      verifierAddress: address.toLowerCase(),
      valid,
      issuedAt,
      signature,
      at: this.now(),
    });
    return undefined;
  }
}
