// The built-in job modules, compiled from the WAT sources in packages/runtimes/wasm/ with the
// wabt package. Builds are byte-for-byte deterministic, so a module's content id (sha256) is
// the same on every machine that builds the same sources with the same wabt version.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import wabt from "wabt";

export const BUILTIN_MODULES = ["reverse", "wordcount", "primes", "spin", "grow"] as const;
export type BuiltinModuleName = (typeof BUILTIN_MODULES)[number];

const SOURCE_DIR = new URL("../../wasm/", import.meta.url);

let wabtInstance: ReturnType<typeof wabt> | undefined;
/** wabt's switches for post-MVP proposals (threads, simd, ...) */
export type WatFeatures = Parameters<Awaited<ReturnType<typeof wabt>>["parseWat"]>[2];
const cache = new Map<BuiltinModuleName, Promise<Uint8Array>>();

/** WAT text to wasm bytes; no debug names, canonical LEBs, so equal text gives equal bytes. */
export async function compileWat(source: string, filename = "module.wat", features?: WatFeatures): Promise<Uint8Array> {
  wabtInstance ??= wabt();
  const module = (await wabtInstance).parseWat(filename, source, features);
  try {
    module.resolveNames();
    // wabt.js's validate takes the feature switches too, though its typings omit them.
    (module as unknown as { validate(features?: WatFeatures): void }).validate(features);
    const { buffer } = module.toBinary({ log: false, canonicalize_lebs: true, write_debug_names: false });
    return Uint8Array.from(buffer); // copy out of wabt's heap
  } finally {
    module.destroy();
  }
}

async function buildOne(name: BuiltinModuleName): Promise<Uint8Array> {
  const source = await readFile(new URL(`${name}.wat`, SOURCE_DIR), "utf8");
  return compileWat(source, `${name}.wat`);
}

/** Compiles every built-in module afresh; with `outDir`, also writes `<name>.wasm` files there. */
export async function buildModules(outDir?: string): Promise<Record<BuiltinModuleName, Uint8Array>> {
  const built = {} as Record<BuiltinModuleName, Uint8Array>;
  for (const name of BUILTIN_MODULES) built[name] = await buildOne(name);
  if (outDir !== undefined) {
    await mkdir(outDir, { recursive: true });
    await Promise.all(BUILTIN_MODULES.map((name) => writeFile(join(outDir, `${name}.wasm`), built[name])));
  }
  return built;
}

/** One built-in module's bytes, compiled once per process; each call gets its own copy. */
export async function loadBuiltinModule(name: BuiltinModuleName): Promise<Uint8Array> {
  if (!BUILTIN_MODULES.includes(name)) throw new Error(`no built-in wasm module '${name}'`);
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = buildOne(name);
    cache.set(name, bytes);
    bytes.catch(() => cache.delete(name));
  }
  return (await bytes).slice();
}
