// The WASM runtime: runs a job module (see abi.ts) on its input in a pool of worker threads,
// under the job's time, memory and fuel caps, and meters the fuel it burned (fuel.ts): an exact
// instruction count that a verifier's re-run reproduces. A job that runs out of fuel is a result
// too (output `outOfFuel`, billed its whole limit), and so is one that traps (output `trap`,
// billed the fuel burned until then): a re-run stops alike.
import { availableParallelism } from "node:os";
import { fuelLimit } from "@tessera/core";
import { MAX_WASM_OUTPUT_BYTES, MAX_WASM_TRAP_CHARS, sha256Hex, type WasmJobSpec } from "@tessera/protocol";
import { type ExecuteContext, type ExecuteResult, JobFault, MeteredStop, type Runtime } from "../types.js";
import { verifyWasmResult } from "../verify/wasm-verify.js";
import { memoryLimitsFor } from "./abi.js";
import { createModuleLoader } from "./compile.js";
import { WasmWorkerPool } from "./pool.js";
import { wasmUnits } from "./units.js";

export interface WasmRuntimeDeps {
  /** bytes of a module by content id; checked against the id before use */
  fetchModule: (id: string) => Promise<Uint8Array>;
  /** bytes of an input blob by content id; checked against the id before use */
  fetchBlob: (id: string) => Promise<Uint8Array>;
  /** worker threads; default os.availableParallelism() */
  poolSize?: number;
  /** compiled modules kept in memory; default 64 */
  moduleCacheSize?: number;
  /** binary bytes of the compiled modules kept in memory; default 256 MiB */
  moduleCacheBytes?: number;
  /** binary bytes of distinct modules one worker runs before it is replaced; default 128 MiB */
  workerModuleBytes?: number;
}

export const DEFAULT_MODULE_CACHE_BYTES = 256 * 1024 * 1024;

export function createWasmRuntime(deps: WasmRuntimeDeps): Runtime<WasmJobSpec> {
  const pool = new WasmWorkerPool({
    size: deps.poolSize ?? availableParallelism(),
    ...(deps.workerModuleBytes === undefined ? {} : { workerModuleBytes: deps.workerModuleBytes }),
  });
  const loadModule = createModuleLoader(deps.fetchModule, {
    count: deps.moduleCacheSize ?? 64,
    bytes: deps.moduleCacheBytes ?? DEFAULT_MODULE_CACHE_BYTES,
  });

  async function readInput(input: WasmJobSpec["input"]): Promise<ArrayBuffer> {
    if ("data" in input) return ownedBuffer(Buffer.from(input.data, "base64"));
    const bytes = await deps.fetchBlob(input.blob);
    const actual = sha256Hex(bytes);
    if (actual !== input.blob) {
      throw new JobFault(`input blob bytes hash to ${actual}, not to the blob id ${input.blob}`);
    }
    return copyBuffer(bytes); // the caller keeps its bytes; the copy is transferred
  }

  const runtime: Runtime<WasmJobSpec> = {
    name: "wasm",
    verify: (spec, claim, ctx) => verifyWasmResult(runtime, spec, claim, ctx),
    async execute(spec: WasmJobSpec, ctx: ExecuteContext): Promise<ExecuteResult> {
      ctx.signal.throwIfAborted();
      const [compiled, input] = await Promise.all([loadModule(spec.module), readInput(spec.input)]);
      const { initial, maximum } = memoryLimitsFor(compiled, spec.limits.maxMemoryMb);
      const limit = fuelLimit(spec.limits);
      const task = {
        module: compiled.module,
        moduleId: compiled.id,
        moduleBytes: compiled.bytes,
        initial,
        maximum,
        maxOutputBytes: MAX_WASM_OUTPUT_BYTES,
        fuel: limit,
        input,
      };
      try {
        const { output, fuel } = await pool.run(task, { timeoutMs: spec.limits.timeoutMs, signal: ctx.signal });
        return { output: { data: Buffer.from(output).toString("base64") }, units: wasmUnits(fuel) };
      } catch (err) {
        // all the fuel burned, or a trap after some, as a re-run anywhere: billed like any result
        if (err instanceof MeteredStop) {
          const output = err.outOfFuel
            ? { data: "", outOfFuel: true as const }
            : { data: "", trap: trapText(err.message) };
          return { output, units: wasmUnits(err.fuel) };
        }
        throw err;
      }
    },
    close: () => pool.close(),
  };
  return runtime;
}

/**
 * An ArrayBuffer holding exactly these bytes that is safe to transfer. Small Buffers are views
 * into Node's shared allocation pool, which must not be handed over, so those are copied.
 */
function ownedBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : copyBuffer(bytes);
}

function copyBuffer(bytes: Uint8Array): ArrayBuffer {
  // Not bytes.slice(): on a Buffer that is a view, not a copy.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** A trap's message as an output holds it: no longer than the protocol allows. */
function trapText(message: string): string {
  return message.length <= MAX_WASM_TRAP_CHARS ? message : `${message.slice(0, MAX_WASM_TRAP_CHARS - 1)}…`;
}
