// Public API of the provider daemon: start one, and the pieces a harness may reuse or wrap.

export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
export { type BlobCacheOptions, type BlobStore, createBlobCache, DEFAULT_BLOB_CACHE_BYTES } from "./blob-cache.js";
export {
  CONFIG_FLAGS,
  type ProviderConfig,
  ProviderConfigError,
  type ProviderConfigInput,
  ProviderConfigSchema,
  parseProviderConfig,
} from "./config.js";
export { CLOSE_AUTH_FAILED, CLOSE_VERSION_MISMATCH, type FatalReason } from "./connection.js";
export type { ChainDomain, EvidenceSigner, ResultEvidence } from "./evidence.js";
export { JobRunner, type JobStats, type RunningRef } from "./jobs.js";
export {
  PROVIDER_SOFTWARE,
  type ProviderDeps,
  type ProviderExit,
  type ProviderExitReason,
  type ProviderHandle,
  type ProviderStats,
  startProvider,
} from "./provider.js";
export {
  closeRuntimes,
  createDefaultRuntimes,
  type LlmRuntimeLike,
  type ProviderRuntimes,
  type RuntimeFactoryContext,
  type RuntimesOption,
  resolveModelPaths,
} from "./runtimes.js";
export { blobUrl, type GatewayUrls, gatewayUrls } from "./urls.js";
export { defaultWasmMemoryBudgetMb } from "./wasm-budget.js";
export { WasmMemoryBudget, type WasmMemoryStats } from "./wasm-memory.js";
