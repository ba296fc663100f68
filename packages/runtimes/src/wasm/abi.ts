// The contract between Tessera's host and a WASM job module, and the check that a compiled
// module keeps it. Everything the host relies on is checked here once per module, not per job.
//
// ## WASM job-module ABI
//
// A job module is a WebAssembly (wasm32, MVP plus the features Node enables by default)
// module that:
//
// - Imports exactly one thing: `env.memory`, a memory. The host creates it per job with
//   `initial` = the module's declared minimum and `maximum` = the job's memory cap
//   (`limits.maxMemoryMb` × 16 pages of 64 KiB), or the module's own declared maximum if
//   lower. Any other import, a module that declares its own memory instead of importing
//   one, or a shared / 64-bit memory is rejected before it runs.
// - Declares every table with a maximum, and the maxima of all its tables sum to at most
//   MAX_TABLE_ENTRIES (65,536). Table entries live on the worker's JS heap, not in the
//   capped linear memory: V8 treats a table it cannot allocate as a fatal out-of-memory and
//   aborts the whole process, not just the worker. A module with an unbounded table, or
//   larger ones, is rejected before it runs; `table.grow` past the maximum returns -1.
// - Exports `alloc(size: i32) -> i32`: returns a pointer to `size` writable bytes.
// - Exports `run(ptr: i32, len: i32) -> i32`: reads the input bytes at ptr/len and returns
//   a pointer to the result, laid out as a little-endian u32 length followed by that many
//   output bytes. Pointers are read as unsigned. Other exports are allowed and ignored.
//
// A job runs in a fresh instance on a fresh memory: the host instantiates the module, calls
// `alloc(input.length)`, copies the input there, calls `run` once, and copies the result out.
// Data segments are written at instantiation; a start function runs then too, before `alloc`
// (the host calls it once the fuel is set).
//
// Jobs must be deterministic: the same module and input give the same output bytes on every
// node, because verification re-executes and compares output hashes. The ABI offers no
// clock, randomness or host calls. (Avoid depending on NaN bit patterns: they are the one
// float result WebAssembly lets hardware choose; and keep recursion shallow: the depth at
// which the host's stack runs out differs between nodes.)
//
// The output may be at most MAX_WASM_OUTPUT_BYTES (16 MiB, @tessera/protocol); a longer one
// fails the job: it would not fit the result frame that carries it to the gateway.
//
// A trap (unreachable, out-of-bounds access, division by zero, stack overflow, ...) fails the
// job with the trap message. `memory.grow` past the cap returns -1; a module that cannot go
// on should trap then. A result pointer or length outside memory also fails the job.
// Limits: fuel (fuel.ts): the job may burn `limits.maxFuel`, or timeoutMs × 3·10⁷ when it names
// none (core's fuelLimit); running out fails the job, the same on every node. `limits.timeoutMs` is also enforced in
// wall-clock time from outside the running job (instantiation included), as a safety net; the
// memory cap through the imported memory's maximum. The exports `tessera:fuel` and
// `tessera:start` are reserved for the host.
// Metering: standard units = max(1, ceil(fuel burned / 10⁷)) (core's fuelStandardUnits), fuel counted by schedule v1
// (fuel.ts) over the start function, `alloc` and `run`.
import { JobFault } from "../types.js";
import { type ModuleFacts, readModuleFacts, UnsupportedWasm } from "./binary.js";

export const WASM_PAGE_BYTES = 65_536;
export const PAGES_PER_MB = (1024 * 1024) / WASM_PAGE_BYTES;
export const MEMORY_IMPORT = { module: "env", name: "memory" } as const;
export const REQUIRED_EXPORTS = { alloc: "i32->i32", run: "i32,i32->i32" } as const;
/**
 * Most table entries a module may declare, summed over its tables' maxima. V8 keeps a table's
 * entries on the worker's JS heap (tens of bytes each); the worker's heap is capped at 64 MB
 * and V8 answers a table it cannot allocate by aborting the whole process. 65,536 entries cost
 * a few MB at most, and real modules need a few thousand (one per address-taken function).
 */
export const MAX_TABLE_ENTRIES = 65_536;

/** What the host needs to know to run a module that keeps the ABI. */
export interface JobModuleInfo {
  /** the memory's declared minimum, in 64 KiB pages */
  minPages: number;
  /** the memory's declared maximum, if it has one */
  maxPages?: number;
}

export function pagesForMb(mb: number): number {
  return mb * PAGES_PER_MB;
}

/** Checks a compiled module's bytes against the ABI; throws a JobFault naming the first problem. */
export function validateJobModule(bytes: Uint8Array): JobModuleInfo {
  let facts: ModuleFacts;
  try {
    facts = readModuleFacts(bytes);
  } catch (err) {
    if (err instanceof UnsupportedWasm) throw new JobFault(`wasm module uses an unsupported encoding: ${err.message}`);
    throw err;
  }

  for (const imp of facts.imports) {
    if (imp.module !== MEMORY_IMPORT.module || imp.name !== MEMORY_IMPORT.name || imp.kind !== "memory") {
      throw new JobFault(
        `wasm module imports ${imp.module}.${imp.name} (${imp.kind}); the only import allowed is env.memory (memory)`,
      );
    }
  }
  if (facts.ownMemories > 0) {
    throw new JobFault("wasm module declares its own memory; it must import env.memory instead");
  }
  const limits = facts.imports[0]?.limits;
  if (!limits) throw new JobFault("wasm module does not import env.memory");
  if (limits.shared) throw new JobFault("wasm module imports a shared memory; only unshared memory is allowed");
  if (limits.memory64) throw new JobFault("wasm module imports a 64-bit memory; only 32-bit memory is allowed");

  checkTables(facts);

  for (const [name, signature] of Object.entries(REQUIRED_EXPORTS)) {
    const exp = facts.exports.find((e) => e.name === name);
    if (!exp) throw new JobFault(`wasm module does not export ${name}`);
    if (exp.kind !== "function") throw new JobFault(`wasm module exports ${name} as a ${exp.kind}, not a function`);
    if (exp.signature !== signature) {
      throw new JobFault(`wasm module exports ${name} as (${exp.signature ?? "?"}); the ABI needs (${signature})`);
    }
  }
  return limits.max === undefined ? { minPages: limits.min } : { minPages: limits.min, maxPages: limits.max };
}

/** Refuses an unbounded table, or tables whose maxima together pass MAX_TABLE_ENTRIES. */
function checkTables(facts: ModuleFacts): void {
  const tables = [
    ...facts.imports.filter((imp) => imp.kind === "table").map((imp) => imp.limits),
    ...facts.ownTables.map((table) => table.limits),
  ];
  let entries = 0;
  for (const limits of tables) {
    if (limits?.max === undefined) {
      throw new JobFault(
        `wasm module declares a table with no maximum; every table needs one, and all together at most ${MAX_TABLE_ENTRIES} entries`,
      );
    }
    entries += limits.max;
  }
  if (entries > MAX_TABLE_ENTRIES) {
    throw new JobFault(
      `wasm module's tables may hold ${entries} entries; the most allowed is ${MAX_TABLE_ENTRIES} (tables live on the host's heap)`,
    );
  }
}

/**
 * The imported memory's limits for one job: the module's minimum, and the job's cap or the
 * module's own maximum if lower. Throws when the module cannot start under the cap.
 */
export function memoryLimitsFor(info: JobModuleInfo, maxMemoryMb: number): { initial: number; maximum: number } {
  const cap = pagesForMb(maxMemoryMb);
  if (info.minPages > cap) {
    throw new JobFault(
      `wasm module needs ${info.minPages} pages (${info.minPages / PAGES_PER_MB} MB) of memory at start but the job's cap is ${maxMemoryMb} MB`,
    );
  }
  return { initial: info.minPages, maximum: Math.min(cap, info.maxPages ?? cap) };
}
