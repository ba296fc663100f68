// How the gateway process asks V8 to manage its heap. A gateway's garbage is mostly job records
// that live a few hundred milliseconds — long enough to be promoted out of the young generation —
// and under V8's default growth policy that garbage piles up in the old generation before a full
// collection: streaming a 100,000-line batch through a fresh gateway raised its RSS from 163 to
// 245 MiB. With --optimize-for-size V8 collects sooner and sizes the young generation smaller
// (126 → 154 MiB in the same run), but a job then costs the gateway about 40 % more CPU (0.77 vs
// 0.54 ms in bench/job-throughput.ts, alternating runs), so V8's defaults stay the default and
// lean is for hosts short of memory. The flag is read by the heap's growth heuristics at every
// collection, so setting it at start-up, before the gateway allocates, takes effect.
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
