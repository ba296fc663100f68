// Tessera's jobs as Slashing evidence: how a job's result maps onto the EIP-712 Result struct,
// a signer that providers and verifiers sign it with, and recovery of who signed (the gateway
// checks evidence on arrival against the node's registered address).
import { type Address, getAddress, type Hex, keccak256, type LocalAccount, recoverTypedDataAddress, toHex } from "viem";
import { resultStructHash, signResult, signVerdict } from "./sign.js";
import { type ChainResult, resultTypes, slashingDomain, type Verdict, verdictTypes } from "./types.js";

/** The chain-facing fields of a job's result, as Tessera knows them. */
export interface ResultEvidence {
  jobId: string;
  attempt: number;
  /** the canonical output hash: 64 lowercase hex digits */
  outputHash: string;
  standardUnits: number;
  /** the consumer's (custodial) address */
  consumer: string;
  /** what the job was billed, in nano-credits = token base units */
  cost: bigint;
}

export interface SlashingDomain {
  chainId: number;
  slashing: string;
}

/** Job ids are free text on the wire; on chain they are bytes32: keccak256 of the id's UTF-8. */
export function chainJobId(jobId: string): Hex {
  return keccak256(toHex(jobId));
}

export function toChainResult(r: ResultEvidence): ChainResult {
  if (!/^[0-9a-f]{64}$/.test(r.outputHash)) throw new Error("outputHash must be 64 lowercase hex digits");
  return {
    jobId: chainJobId(r.jobId),
    attempt: r.attempt,
    outputHash: `0x${r.outputHash}`,
    units: BigInt(r.standardUnits),
    consumer: getAddress(r.consumer),
    cost: r.cost,
  };
}

/** The struct hash a verdict on this result names (Slashing.resultHash). */
export function resultEvidenceHash(r: ResultEvidence): Hex {
  return resultStructHash(toChainResult(r));
}

/** Signs evidence with a node's eth key (`--eth-key`); what the provider daemon is handed. */
export interface EvidenceSigner {
  address: string;
  signResult(domain: SlashingDomain, r: ResultEvidence): Promise<string>;
  signVerdict(domain: SlashingDomain, r: ResultEvidence, valid: boolean, issuedAt: number): Promise<string>;
}

export function evidenceSigner(account: LocalAccount): EvidenceSigner {
  return {
    address: account.address,
    signResult: (d, r) => signResult(account, d.chainId, getAddress(d.slashing), toChainResult(r)),
    signVerdict: (d, r, valid, issuedAt) =>
      signVerdict(account, d.chainId, getAddress(d.slashing), {
        result: resultEvidenceHash(r),
        valid,
        issuedAt: BigInt(issuedAt),
      }),
  };
}

/** Who signed this Result; throws on a malformed signature. */
export function recoverResultSigner(d: SlashingDomain, r: ResultEvidence, signature: string): Promise<Address> {
  return recoverTypedDataAddress({
    domain: slashingDomain(d.chainId, getAddress(d.slashing)),
    types: resultTypes,
    primaryType: "Result",
    message: toChainResult(r),
    signature: signature as Hex,
  });
}

export function chainVerdict(r: ResultEvidence, valid: boolean, issuedAt: number): Verdict {
  return { result: resultEvidenceHash(r), valid, issuedAt: BigInt(issuedAt) };
}

/** Who signed this Verdict on this result; throws on a malformed signature. */
export function recoverVerdictSigner(
  d: SlashingDomain,
  r: ResultEvidence,
  valid: boolean,
  issuedAt: number,
  signature: string,
): Promise<Address> {
  return recoverTypedDataAddress({
    domain: slashingDomain(d.chainId, getAddress(d.slashing)),
    types: verdictTypes,
    primaryType: "Verdict",
    message: chainVerdict(r, valid, issuedAt),
    signature: signature as Hex,
  });
}

/** Does `signature` recover to `expected`? False for malformed signatures too. */
export async function signedBy(recover: () => Promise<Address>, expected: string): Promise<boolean> {
  try {
    return getAddress(await recover()) === getAddress(expected);
  } catch {
    return false;
  }
}
