// The standard unit (SU) lets providers and models be compared like for like:
// 1 SU = 1e6 floating-point operations; an LLM token costs 2 x parameters FLOPs.
export const FLOPS_PER_STANDARD_UNIT = 1_000_000;

export function llmStandardUnits(parameters: number, tokens: number): number {
  return Math.ceil((2 * parameters * tokens) / FLOPS_PER_STANDARD_UNIT);
}

/**
 * WASM work is metered in fuel: one unit per instruction executed, counted by code instrumented
 * alike on every node (the runtimes' wasm/fuel.ts), so a verifier's re-run counts exactly the
 * same. A WebAssembly instruction is far less than a floating-point operation of useful work (a
 * float64 matrix product counts 16.6 per multiply-add FLOP in bench/wasm-fuel.ts, whose modules
 * burn 4,700 to 23,000 fuel per µs on this 2-core EPYC): 10⁷ fuel make 1 SU, which bills a second
 * of such work about what the node's FLOP rate did before fuel (874 SU/s measured here).
 */
export const FUEL_PER_STANDARD_UNIT = 10_000_000;
/**
 * A WASM job's fuel when its spec names none, per ms of its time cap: above the fastest burn
 * measured (23,000 fuel per µs), so that on such a machine the time cap, not the fuel, stops a job
 * that names no fuel; its escrow is then 3 SU per ms of time cap.
 */
export const DEFAULT_FUEL_PER_MS = 30_000_000;

/** The fuel a WASM job may burn: its `maxFuel`, or its time cap at DEFAULT_FUEL_PER_MS. */
export function fuelLimit(limits: { timeoutMs: number; maxFuel?: number | undefined }): number {
  return limits.maxFuel ?? limits.timeoutMs * DEFAULT_FUEL_PER_MS;
}

/**
 * Why a WASM job that burned all its fuel failed. Running out is the same on every node, so it is
 * a result like any other (the protocol's WasmOutput `outOfFuel`): signed, billed the whole limit,
 * and checked by an audit's re-run.
 */
export function outOfFuelMessage(limit: number): string {
  return `wasm job ran out of fuel (limit ${limit}; a job may set limits.maxFuel)`;
}

/** Standard units of a WASM run that burned `fuel`: at least 1, like any job. */
export function fuelStandardUnits(fuel: number): number {
  return Math.max(1, Math.ceil(fuel / FUEL_PER_STANDARD_UNIT));
}

/**
 * Upper bound of prompt tokens for a text: byte-fallback SentencePiece and byte-level BPE
 * vocabularies never need more than one token per UTF-8 byte, plus template overhead.
 */
export function maxPromptTokens(text: string, templateOverhead = 64): number {
  return Buffer.byteLength(text, "utf8") + templateOverhead;
}
