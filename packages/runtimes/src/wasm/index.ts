// Public API of the WASM runtime: sandboxed, deterministic jobs in reusable worker threads.

// pure and shared with the gateway, which checks capacity proofs without loading any runtime
export { matmul, matmulFlops, matVec, randomMatrix, seededRandom } from "@tessera/core";
export {
  type JobModuleInfo,
  MAX_TABLE_ENTRIES,
  MEMORY_IMPORT,
  memoryLimitsFor,
  PAGES_PER_MB,
  pagesForMb,
  REQUIRED_EXPORTS,
  validateJobModule,
  WASM_PAGE_BYTES,
} from "./abi.js";
export {
  FUEL_BYTES_PER_UNIT,
  FUEL_EXPORT,
  FUEL_PER_PAGE,
  FUEL_SCHEDULE,
  instrumentFuel,
  START_EXPORT,
} from "./fuel.js";
export {
  BUILTIN_MODULES,
  type BuiltinModuleName,
  buildModules,
  compileWat,
  loadBuiltinModule,
  type WatFeatures,
} from "./modules.js";
export { createWasmRuntime, type WasmRuntimeDeps } from "./runtime.js";
export { measureThroughput, type ThroughputOptions } from "./throughput.js";
export { wasmUnits } from "./units.js";
