// Metering of a WASM job: no tokens, and work as the CPU time spent in `run` scaled by the
// node's measured throughput (the formula lives in core so every party computes it alike).

import { measuredStandardUnits } from "@tessera/core";
import type { Units } from "@tessera/protocol";

/** standardUnits = max(1, ceil(cpuMs × throughput / 1000)); throughput in SU per second. */
export function wasmUnits(cpuMs: number, throughput: number): Units {
  return { inputTokens: 0, outputTokens: 0, standardUnits: measuredStandardUnits(cpuMs, throughput) };
}
