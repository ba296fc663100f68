// Node flags per tessera command, for whatever spawns `node <bin> <command>` (`tessera up`, the
// tests, the benches). Only the gateway has any: its memory should stay flat under load
// (bench/batch-throughput.ts, memory phase). V8's default young generation on a machine with
// gigabytes of RAM grows to 16 MiB semi-spaces, ~45 MiB of a busy gateway's RSS; 4 MiB took its
// idle RSS from ~165 to ~140 MiB and its peak under a 100,000-line batch from ~200 to ~170. The
// flag is one NODE_OPTIONS accepts, so an operator starting the gateway by hand can pass it too
// (README). Providers run without it: their memory is the model's, outside V8's heap, and in two
// A/B rounds of the 64-token batch bench they used more CPU per request with it (within the
// machine's noise, but not worth the risk for no memory gained).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TESSERA_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../bin/tessera.js");

export const GATEWAY_NODE_FLAGS = ["--max-semi-space-size=4"];

/** The node flags for `tessera <args…>`. */
export function nodeFlagsFor(args: readonly string[]): string[] {
  return args[0] === "gateway" ? GATEWAY_NODE_FLAGS : [];
}
