// How the gateway process asks V8 to manage its heap. Streaming a 100,000-line batch through a
// fresh gateway, RSS climbs from ~160 to ~240 MiB over the first ~18 s, then drops at the first
// full collection to ~182 MiB and stays flat: while V8's young generation is still small, job
// records that live a few hundred milliseconds are promoted and pile up in the old generation.
// With --optimize-for-size V8 collects sooner: the same run peaked at 155–163 MiB in three runs
// out of four (the fourth climbed like the default), but a job then costs the gateway about 40 %
// more CPU (0.77 vs 0.54 ms in bench/job-throughput.ts, alternating runs). So V8's defaults stay
// the default and lean is for hosts short of memory. The flag is read by the heap's growth
// heuristics at every collection, so setting it at start-up, before the gateway allocates, works.
import { setFlagsFromString } from "node:v8";
import { InvalidArgumentError } from "commander";

export const HEAP_MODES = ["lean", "fast"] as const;
export type HeapMode = (typeof HEAP_MODES)[number];

export function heapMode(value: string): HeapMode {
  if (!(HEAP_MODES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${HEAP_MODES.join(", ")}`);
  return value as HeapMode;
}

/** lean: V8 optimises for size; fast: V8's defaults (more memory, fewer full collections). */
export function applyHeapMode(mode: HeapMode): void {
  if (mode === "lean") setFlagsFromString("--optimize-for-size");
}
