// Submitting slashing evidence: the provider's signed Result and two verifiers' signed Verdicts
// against it go to Slashing.slashProvider from any account (the gateway's); the receipt's
// ProviderSlashed log says what was taken, refunded and paid to the verifiers.
import { type Address, getAddress, type Hex, parseEventLogs } from "viem";
import type { Clients } from "../deploy/deploy.js";
import { chainVerdict, type ResultEvidence, toChainResult } from "../eip712/evidence.js";
import { SlashingAbi } from "../generated/index.js";

export interface SignedVerdictEvidence {
  valid: boolean;
  issuedAt: number;
  signature: string;
}

export interface SlashEvidence {
  result: ResultEvidence;
  providerSignature: string;
  verdicts: [SignedVerdictEvidence, SignedVerdictEvidence];
}

export interface SlashReceipt {
  tx: Hex;
  blockNumber: bigint;
  logIndex: number;
  provider: Address;
  taken: bigint;
  refund: bigint;
  reward: bigint;
}

/** The arguments of Slashing.slashProvider for this evidence. */
export function slashArgs(e: SlashEvidence) {
  const [a, b] = e.verdicts;
  return [
    toChainResult(e.result),
    e.providerSignature as Hex,
    [chainVerdict(e.result, a.valid, a.issuedAt), chainVerdict(e.result, b.valid, b.issuedAt)],
    [a.signature as Hex, b.signature as Hex],
  ] as const;
}

/** Sends the evidence and waits for the receipt; a revert throws (decode it with decodeRevert). */
export async function submitSlash(c: Clients, slashing: Address, e: SlashEvidence): Promise<SlashReceipt> {
  const w = { chain: c.wallet.chain ?? null, account: c.wallet.account };
  const args = slashArgs(e);
  // gas estimation runs the call first, so a refusal throws a decodable revert before sending
  const tx = await c.wallet.writeContract({
    ...w,
    address: getAddress(slashing),
    abi: SlashingAbi,
    functionName: "slashProvider",
    args,
  });
  const r = await c.public.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
  if (r.status !== "success") throw new Error(`slashProvider ${tx} reverted`);
  const [log] = parseEventLogs({ abi: SlashingAbi, logs: r.logs, eventName: "ProviderSlashed" });
  if (!log) throw new Error(`slashProvider ${tx} emitted no ProviderSlashed`);
  return {
    tx,
    blockNumber: r.blockNumber,
    logIndex: log.logIndex,
    provider: log.args.provider,
    taken: log.args.amount,
    refund: log.args.refund,
    reward: log.args.reward,
  };
}

/**
 * One verdict against a signed result: Slashing.openDispute freezes the provider's stake for the
 * contract's disputeWindow, so it cannot withdraw while the second verifier is at work. Returns the tx.
 */
export async function submitDispute(
  c: Clients,
  slashing: Address,
  e: { result: ResultEvidence; providerSignature: string; verdict: SignedVerdictEvidence },
): Promise<Hex> {
  const tx = await c.wallet.writeContract({
    chain: c.wallet.chain ?? null,
    account: c.wallet.account,
    address: getAddress(slashing),
    abi: SlashingAbi,
    functionName: "openDispute",
    args: [
      toChainResult(e.result),
      e.providerSignature as Hex,
      chainVerdict(e.result, e.verdict.valid, e.verdict.issuedAt),
      e.verdict.signature as Hex,
    ],
  });
  const r = await c.public.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
  if (r.status !== "success") throw new Error(`openDispute ${tx} reverted`);
  return tx;
}
