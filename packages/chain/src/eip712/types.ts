// EIP-712 types of Tessera's signed messages, in viem's typed-data form. They must match the
// TYPEHASH strings in contracts/Escrow.sol and contracts/Slashing.sol field for field.
import type { Address, Hex } from "viem";

export const voucherTypes = {
  Voucher: [
    { name: "consumer", type: "address" },
    { name: "provider", type: "address" },
    { name: "cumulative", type: "uint256" },
  ],
} as const;

export const resultTypes = {
  Result: [
    { name: "jobId", type: "bytes32" },
    { name: "attempt", type: "uint32" },
    { name: "outputHash", type: "bytes32" },
    { name: "units", type: "uint256" },
    { name: "consumer", type: "address" },
    { name: "cost", type: "uint256" },
  ],
} as const;

export const verdictTypes = {
  Verdict: [
    { name: "result", type: "bytes32" },
    { name: "valid", type: "bool" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

export interface Voucher {
  consumer: Address;
  provider: Address;
  cumulative: bigint;
}

export interface ChainResult {
  jobId: Hex;
  attempt: number;
  outputHash: Hex;
  units: bigint;
  consumer: Address;
  cost: bigint;
}

export interface Verdict {
  result: Hex;
  valid: boolean;
  issuedAt: bigint;
}

export function escrowDomain(chainId: number, escrow: Address) {
  return { name: "TesseraEscrow", version: "1", chainId, verifyingContract: escrow } as const;
}

export function slashingDomain(chainId: number, slashing: Address) {
  return { name: "TesseraSlashing", version: "1", chainId, verifyingContract: slashing } as const;
}
