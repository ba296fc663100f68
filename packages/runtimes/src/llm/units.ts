// LLM metering in standard units: 1 SU = 1e6 FLOPs, and a token through a dense transformer costs
// about 2 x parameters FLOPs. Integer arithmetic so every node bills the same job identically.

/** ceil(2 × parameters × tokens / 1e6), computed exactly (BigInt) to avoid float rounding at scale. */
export function llmStandardUnits(parameters: number, tokens: number): number {
  if (!Number.isSafeInteger(parameters) || parameters < 0)
    throw new RangeError("parameters must be a non-negative integer");
  if (!Number.isSafeInteger(tokens) || tokens < 0) throw new RangeError("tokens must be a non-negative integer");
  const flops = 2n * BigInt(parameters) * BigInt(tokens);
  return Number((flops + 999_999n) / 1_000_000n);
}
