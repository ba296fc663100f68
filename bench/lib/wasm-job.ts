// The work item of the job-throughput bench, shared by both systems: the built-in `reverse`
// WASM module on a 32-byte input, run by Tessera's own WASM runtime.
import { Buffer } from "node:buffer";
import { sha256Hex, type WasmJobSpec } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";

export const INPUT_BYTES = 32;
export const LIMITS = { timeoutMs: 5_000, maxMemoryMb: 16 } as const;

export async function reverseModule(): Promise<{ id: string; bytes: Uint8Array }> {
  const bytes = await loadBuiltinModule("reverse");
  return { id: sha256Hex(bytes), bytes };
}

/** A distinct 32-byte input per job, so every output is checkable and none is cached. */
export function inputFor(tag: string, i: number): string {
  return `${tag}:${i}:`.padEnd(INPUT_BYTES, "x").slice(0, INPUT_BYTES);
}

export function specFor(moduleId: string, input: string): WasmJobSpec {
  return { runtime: "wasm", module: moduleId, input: { data: Buffer.from(input).toString("base64") }, limits: LIMITS };
}

/** True when base64 `output` is `input` reversed. */
export function isReversed(input: string, output: string | undefined): boolean {
  return output !== undefined && Buffer.from(output, "base64").toString() === [...input].reverse().join("");
}
