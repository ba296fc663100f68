// Parameter counts from GGUF tensor shapes: what metering multiplies by (2 x parameters x tokens),
// so it must come from the file itself, the same way on every node holding that file.
import { readGgufFileInfo } from "node-llama-cpp";

export interface TensorShape {
  readonly dimensions: readonly (number | bigint)[];
}

/** Sum over tensors of the product of their dimensions (embeddings and norms included). */
export function ggufParameterCount(tensors: readonly TensorShape[]): number {
  let total = 0n;
  for (const t of tensors) total += t.dimensions.reduce<bigint>((acc, d) => acc * BigInt(d), 1n);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("parameter count exceeds the safe integer range");
  return Number(total);
}

/** Reads a GGUF header (not the weights) and counts its parameters. */
export async function readGgufParameterCount(path: string): Promise<number> {
  const info = await readGgufFileInfo(path, { readTensorInfo: true, sourceType: "filesystem", logWarnings: false });
  return ggufParameterCount(info.fullTensorInfo ?? info.tensorInfo ?? []);
}
