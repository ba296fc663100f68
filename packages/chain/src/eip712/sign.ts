// Signing and hashing helpers for vouchers, results and verdicts (viem local accounts).
import { type Address, hashStruct, type LocalAccount } from "viem";
import {
  type ChainResult,
  escrowDomain,
  resultTypes,
  slashingDomain,
  type Verdict,
  type Voucher,
  verdictTypes,
  voucherTypes,
} from "./types.js";

export function signVoucher(signer: LocalAccount, chainId: number, escrow: Address, v: Voucher) {
  return signer.signTypedData({
    domain: escrowDomain(chainId, escrow),
    types: voucherTypes,
    primaryType: "Voucher",
    message: v,
  });
}

export function signResult(signer: LocalAccount, chainId: number, slashing: Address, r: ChainResult) {
  return signer.signTypedData({
    domain: slashingDomain(chainId, slashing),
    types: resultTypes,
    primaryType: "Result",
    message: r,
  });
}

export function signVerdict(signer: LocalAccount, chainId: number, slashing: Address, v: Verdict) {
  return signer.signTypedData({
    domain: slashingDomain(chainId, slashing),
    types: verdictTypes,
    primaryType: "Verdict",
    message: v,
  });
}

/** The struct hash a verdict names as its `result` (Slashing.resultHash on chain). */
export function resultStructHash(r: ChainResult) {
  return hashStruct({ data: r, types: resultTypes, primaryType: "Result" });
}
