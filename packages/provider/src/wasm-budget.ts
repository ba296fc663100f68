// The provider-wide WASM memory budget, its pure decisions: whether a job's memory limit can
// ever fit, and which waiting jobs start now. Each WASM job may grow its memory up to its own
// limit (up to 4 GiB), so the limits of the jobs running at once, not their current sizes, are
// what must fit the machine: a job cannot be stopped from growing once it runs.

const MIB = 1024 * 1024;

/** A job waiting for memory: its limit, in MiB. */
export interface MemoryRequest {
  mb: number;
}

/** Default budget: half of this machine's memory, leaving the rest to the OS, the LLM runtime and Node. */
export function defaultWasmMemoryBudgetMb(totalMemoryBytes: number): number {
  return Math.max(1, Math.floor(totalMemoryBytes / 2 / MIB));
}

/** Whether a job with this memory limit could ever run under the budget (alone, if need be). */
export function fitsBudget(mb: number, budgetMb: number): boolean {
  return mb <= budgetMb;
}

/** Why a job whose limit is larger than the whole budget is refused here. */
export function overBudgetReason(mb: number, budgetMb: number): string {
  return `the wasm job's memory limit of ${mb} MiB exceeds this provider's WASM memory budget of ${budgetMb} MiB (--wasm-memory-budget)`;
}

/**
 * How many requests at the head of `waiting` start now, given the MiB already reserved. Strictly
 * in order: the first that does not fit stops the rest, so a large job is not overtaken forever
 * by a stream of small ones that would keep its memory from ever freeing.
 */
export function admissible(budgetMb: number, inUseMb: number, waiting: readonly MemoryRequest[]): number {
  let used = inUseMb;
  let n = 0;
  for (const request of waiting) {
    if (used + request.mb > budgetMb) break;
    used += request.mb;
    n++;
  }
  return n;
}
