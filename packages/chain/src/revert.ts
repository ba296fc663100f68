// Names the custom error a Tessera contract reverted with, from any viem error. Hardhat's
// in-process provider reports revert data without JSON-RPC code 3, so viem leaves it undecoded;
// this walks the cause chain for the raw data and decodes it against every Tessera ABI.
import { BaseError, decodeErrorResult, type Hex } from "viem";
import { EscrowAbi, NodeSharesAbi, ProviderRegistryAbi, SlashingAbi, TestTokenAbi } from "./generated/index.js";

const allErrors = [...EscrowAbi, ...NodeSharesAbi, ...ProviderRegistryAbi, ...SlashingAbi, ...TestTokenAbi].filter(
  (x) => x.type === "error",
);

function rawData(e: unknown): Hex | undefined {
  let x: unknown = e;
  for (let depth = 0; x && depth < 20; depth++) {
    const d = (x as { data?: unknown }).data;
    if (typeof d === "string" && /^0x[0-9a-fA-F]{8}/.test(d)) return d as Hex;
    if (d && typeof d === "object" && typeof (d as { data?: unknown }).data === "string")
      return (d as { data: Hex }).data;
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The error's name and arguments, or undefined when the failure was not a decodable revert. */
export function decodeRevert(e: unknown): { name: string; args: readonly unknown[] } | undefined {
  if (!(e instanceof BaseError) && !(e instanceof Error)) return undefined;
  const data = rawData(e);
  if (!data) return undefined;
  try {
    const r = decodeErrorResult({ abi: allErrors, data });
    return { name: r.errorName, args: (r.args ?? []) as readonly unknown[] };
  } catch {
    return undefined;
  }
}
