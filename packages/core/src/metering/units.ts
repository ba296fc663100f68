// The standard unit (SU) lets providers and models be compared like for like:
// 1 SU = 1e6 floating-point operations; an LLM token costs 2 x parameters FLOPs.
export const FLOPS_PER_STANDARD_UNIT = 1_000_000;

export function llmStandardUnits(parameters: number, tokens: number): number {
  return Math.ceil((2 * parameters * tokens) / FLOPS_PER_STANDARD_UNIT);
}

/** Work of a runtime without a FLOP count: measured CPU time scaled by the node's benchmarked rate. */
export function measuredStandardUnits(cpuMs: number, throughputSuPerSecond: number): number {
  return Math.max(1, Math.ceil((cpuMs * throughputSuPerSecond) / 1000));
}

/**
 * Upper bound of prompt tokens for a text: byte-fallback SentencePiece and byte-level BPE
 * vocabularies never need more than one token per UTF-8 byte, plus template overhead.
 */
export function maxPromptTokens(text: string, templateOverhead = 64): number {
  return Buffer.byteLength(text, "utf8") + templateOverhead;
}
