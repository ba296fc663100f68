// The runtimes a provider serves, and how the real ones are built from its config. This is
// the seam for tests and adversarial harnesses: they pass their own (often wrapping these).
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import type { LlmJobSpec, ModelInfo, WasmJobSpec } from "@tessera/protocol";
import { createLlmRuntime, createWasmRuntime, ensureTinyModel, ModelLoadError, type Runtime } from "@tessera/runtimes";
import type { BlobStore } from "./blob-cache.js";
import { type ProviderConfig, ProviderConfigError } from "./config.js";

/** An LLM runtime also says which models it has loaded, for the capabilities it advertises. */
export interface LlmRuntimeLike extends Runtime<LlmJobSpec> {
  models(): ModelInfo[];
}

export interface ProviderRuntimes {
  llm?: LlmRuntimeLike;
  wasm?: Runtime<WasmJobSpec>;
}

export interface RuntimeFactoryContext {
  config: ProviderConfig;
  /** the provider's blob cache (WASM modules and inputs from the gateway) */
  blobs: BlobStore;
  /** standard units per second, measured at start (or given in deps) */
  throughput: number;
  /** builds the real runtimes from the config, for a factory that wraps them */
  createDefault(): Promise<ProviderRuntimes>;
}

/**
 * Either runtimes to use as they are (the caller owns them and closes them), or a factory
 * the provider calls once at start (the provider owns what it returns and closes it on stop).
 */
export type RuntimesOption =
  | ProviderRuntimes
  | ((ctx: RuntimeFactoryContext) => ProviderRuntimes | Promise<ProviderRuntimes>);

/** Model files the config asks for, with the tiny model generated first when requested. */
export async function resolveModelPaths(config: ProviderConfig): Promise<string[]> {
  for (const path of config.models) {
    const isFile = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!isFile) throw new ProviderConfigError("--models", `no model file at ${path}`);
    // checked here because the runtime's own error ("Invalid GGUF magic") does not say which file
    const magic = await readMagic(path);
    if (magic !== "GGUF") {
      throw new ProviderConfigError(
        "--models",
        `${path} is not a GGUF model file (it starts with ${JSON.stringify(magic)}, not "GGUF")`,
      );
    }
  }
  const paths = [...config.models];
  if (config.tinyModel) {
    const dir = join(config.dataDir, "models");
    try {
      paths.push(await ensureTinyModel(dir));
    } catch (err) {
      // a bare "ENOSPC: no space left on device, write" did not say what was being written, or where
      throw new ProviderConfigError(
        "--data-dir",
        `cannot write the tiny model (--tiny-model) under ${dir}: ${(err as Error).message}`,
      );
    }
  }
  return paths;
}

/** The file's first four bytes, as latin1 text. */
async function readMagic(path: string): Promise<string> {
  const file = await open(path, "r");
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await file.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead).toString("latin1");
  } finally {
    await file.close();
  }
}

/** The real runtimes: llm when the config names models (or the tiny one), and wasm. */
export async function createDefaultRuntimes(
  config: ProviderConfig,
  deps: { blobs: BlobStore },
): Promise<ProviderRuntimes> {
  const wanted = config.runtimes;
  const modelPaths = await resolveModelPaths(config);
  const runtimes: ProviderRuntimes = {};
  if (wanted === undefined || wanted.includes("wasm")) {
    runtimes.wasm = createWasmRuntime({
      fetchModule: (id) => deps.blobs.get(id),
      fetchBlob: (id) => deps.blobs.get(id),
      poolSize: config.concurrency,
    });
  }
  if ((wanted === undefined || wanted.includes("llm")) && modelPaths.length > 0) {
    try {
      runtimes.llm = await createLlmRuntime({
        modelPaths,
        concurrency: config.concurrency,
        gpu: config.gpu ? "auto" : false,
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(config.contextSize === undefined ? {} : { contextSize: config.contextSize }),
        ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
      });
    } catch (err) {
      await runtimes.wasm?.close();
      // a truncated or corrupt file: name it and the flag, as a file that is not GGUF is
      if (err instanceof ModelLoadError) throw new ProviderConfigError("--models", err.message);
      throw err;
    }
  }
  return runtimes;
}

export async function closeRuntimes(runtimes: ProviderRuntimes): Promise<void> {
  await Promise.allSettled([runtimes.llm?.close(), runtimes.wasm?.close()]);
}
