// Test helper: a freshly generated tiny model in its own temp directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTinyModel, type TinyModelOptions } from "./tiny-model.js";

export interface TempModel {
  dir: string;
  path: string;
  cleanup(): Promise<void>;
}

export async function tempTinyModel(opts?: TinyModelOptions, file = "tessera-tiny.gguf"): Promise<TempModel> {
  const dir = await mkdtemp(join(tmpdir(), "tessera-gguf-"));
  const path = await makeTinyModel(join(dir, file), opts);
  return { dir, path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
