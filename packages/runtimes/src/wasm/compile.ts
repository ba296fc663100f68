// Turns a module id into a compiled, ABI-checked module: fetch the bytes, check they hash to
// the id, compile, validate. Results are cached per id (in flight too, so concurrent jobs for
// a new module share one fetch and one compile); failures are not cached.
import { sha256Hex } from "@tessera/protocol";
import { JobFault } from "../types.js";
import { type JobModuleInfo, validateJobModule } from "./abi.js";
import { type WasmModule, webAssembly } from "./engine.js";
import { LruMap } from "./lru.js";

export interface CompiledJobModule extends JobModuleInfo {
  id: string;
  module: WasmModule;
}

export type ModuleLoader = (id: string) => Promise<CompiledJobModule>;

export function createModuleLoader(fetchModule: (id: string) => Promise<Uint8Array>, capacity: number): ModuleLoader {
  const cache = new LruMap<string, Promise<CompiledJobModule>>(capacity);
  return (id) => {
    const cached = cache.get(id);
    if (cached) return cached;
    const loading = compileVerified(id, fetchModule);
    cache.set(id, loading);
    loading.catch(() => {
      if (cache.get(id) === loading) cache.delete(id);
    });
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
  let module: WasmModule;
  try {
    module = await webAssembly.compile(bytes);
  } catch (err) {
    throw new JobFault(`wasm module ${id} does not compile: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { id, module, ...validateJobModule(bytes) };
}
