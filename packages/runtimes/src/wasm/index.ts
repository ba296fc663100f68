// Public API of the WASM runtime: sandboxed, deterministic jobs in reusable worker threads.

export {
  type JobModuleInfo,
  MEMORY_IMPORT,
  memoryLimitsFor,
  PAGES_PER_MB,
  pagesForMb,
  REQUIRED_EXPORTS,
  validateJobModule,
  WASM_PAGE_BYTES,
} from "./abi.js";
export { matmul, matmulFlops, matVec, randomMatrix, seededRandom } from "./matmul.js";
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
