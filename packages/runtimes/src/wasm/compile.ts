// Turns a module id into a compiled, ABI-checked module: fetch the bytes, check they hash to
// the id, instrument them for fuel (fuel.ts), compile that, and validate the original against the ABI. Results are cached per id (in flight too, so concurrent jobs for
// a new module share one fetch and one compile); failures are not cached. The cache is bounded
// by count and by the modules' binary size: a compiled module keeps its whole binary alive.
import { sha256Hex } from "@tessera/protocol";
import { JobFault } from "../types.js";
import { type JobModuleInfo, validateJobModule } from "./abi.js";
import { type WasmModule, webAssembly } from "./engine.js";
import { instrumentFuel } from "./fuel.js";
import { LruMap } from "./lru.js";

export interface CompiledJobModule extends JobModuleInfo {
  id: string;
  module: WasmModule;
  /** size of the compiled (fuel-instrumented) binary */
  bytes: number;
}

export interface ModuleCacheLimits {
  /** most modules kept */
  count: number;
  /** most binary bytes kept, summed over the modules */
  bytes: number;
}

export type ModuleLoader = (id: string) => Promise<CompiledJobModule>;

export function createModuleLoader(
  fetchModule: (id: string) => Promise<Uint8Array>,
  limits: ModuleCacheLimits,
): ModuleLoader {
  const cache = new LruMap<string, Promise<CompiledJobModule>>({ capacity: limits.count, maxWeight: limits.bytes });
  const isCurrent = (id: string, loading: Promise<CompiledJobModule>) => cache.peek(id) === loading;
  return (id) => {
    const cached = cache.get(id);
    if (cached) return cached;
    const loading = compileVerified(id, fetchModule);
    cache.set(id, loading); // weightless while in flight: its size is not known yet
    loading.then(
      (compiled) => {
        if (isCurrent(id, loading)) cache.reweigh(id, compiled.bytes);
      },
      () => {
        if (isCurrent(id, loading)) cache.delete(id);
      },
    );
    return loading;
  };
}

async function compileVerified(
  id: string,
  fetchModule: (id: string) => Promise<Uint8Array>,
): Promise<CompiledJobModule> {
  const bytes = await fetchModule(id);
  const actual = sha256Hex(bytes);
  if (actual !== id) throw new JobFault(`wasm module bytes hash to ${actual}, not to the module id ${id}`);
  const metered = await compileMetered(id, bytes);
  return { id, module: metered.module, bytes: metered.bytes, ...validateJobModule(bytes) };
}

async function compileMetered(id: string, bytes: Uint8Array): Promise<{ module: WasmModule; bytes: number }> {
  let failure: unknown;
  try {
    const instrumented = instrumentFuel(bytes);
    return { module: await webAssembly.compile(instrumented), bytes: instrumented.byteLength };
  } catch (err) {
    failure = err;
  }
  // Say why in the module's own terms when the module itself is not valid wasm.
  try {
    await webAssembly.compile(bytes);
  } catch (err) {
    throw new JobFault(`wasm module ${id} does not compile: ${messageOf(err)}`);
  }
  if (failure instanceof JobFault) throw failure;
  throw new JobFault(`wasm module ${id} does not compile once instrumented for fuel: ${messageOf(failure)}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
