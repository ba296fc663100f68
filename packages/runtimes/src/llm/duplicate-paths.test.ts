// One model file named twice (`tessera provider --models a.gguf a.gguf`, or as ./a.gguf and
// a.gguf) is loaded once: it was loaded twice, the second copy disposed only after it had taken
// its memory and its first context.
import { symlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { type TempModel, tempTinyModel } from "../gguf/testing.js";
import { LoadedModel } from "./loaded-model.js";
import { createLlmRuntime } from "./runtime.js";

let tiny: TempModel;
beforeAll(async () => {
  tiny = await tempTinyModel();
});
afterAll(async () => {
  await tiny?.cleanup();
});

describe("createLlmRuntime with one file named twice", () => {
  test("loads it once, however the path is spelled", async () => {
    const link = join(tiny.dir, "link.gguf");
    await symlink(tiny.path, link);
    const load = vi.spyOn(LoadedModel, "load");
    const rt = await createLlmRuntime({ modelPaths: [tiny.path, tiny.path, relative(process.cwd(), tiny.path), link] });
    try {
      expect(load).toHaveBeenCalledTimes(1);
      expect(rt.models()).toHaveLength(1);
    } finally {
      load.mockRestore();
      await rt.close();
    }
  }, 60_000);
});
