// Signing slashing evidence under on-chain settlement: with an eth key (`--eth-key`) the node signs
// each result as an EIP-712 Result, and each verdict as a Verdict, for the Slashing contract the
// gateway names in its welcome. The signer is passed in (the CLI builds it with @tessera/chain),
// so the daemon itself carries no chain library.
import type { LeaseEvidence } from "@tessera/protocol";

export interface ChainDomain {
  chainId: number;
  slashing: string;
}

/** A job's result in the terms the Result struct needs (see @tessera/chain's ResultEvidence). */
export interface ResultEvidence {
  jobId: string;
  attempt: number;
  outputHash: string;
  standardUnits: number;
  consumer: string;
  cost: bigint;
}

export interface EvidenceSigner {
  address: string;
  signResult(domain: ChainDomain, r: ResultEvidence): Promise<string>;
  signVerdict(domain: ChainDomain, r: ResultEvidence, valid: boolean, issuedAt: number): Promise<string>;
}

/** What the job runner and the auditor need to sign: the signer and the gateway's chain, once welcomed. */
export interface EvidenceContext {
  signer: EvidenceSigner;
  domain(): ChainDomain | undefined;
}

export type { LeaseEvidence };
