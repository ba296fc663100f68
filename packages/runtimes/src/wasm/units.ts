// Metering of a WASM job: no tokens, and work as the fuel it burned (an exact instruction count,
// see fuel.ts), converted by core's rule so that every party bills it alike.

import { fuelStandardUnits } from "@tessera/core";
import type { Units } from "@tessera/protocol";

/** standardUnits = max(1, ceil(fuel / 10⁷)): core's fuelStandardUnits. */
export function wasmUnits(fuel: number): Units {
  return { inputTokens: 0, outputTokens: 0, standardUnits: fuelStandardUnits(fuel) };
}
