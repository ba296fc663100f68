import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { webAssembly } from "./engine.js";
import { instrumentFuel } from "./fuel.js";
import { compileWat, loadBuiltinModule } from "./modules.js";
import { type WasmTask, WasmWorkerPool } from "./pool.js";

const pools: WasmWorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

// Each task runs the real reverse module; its id and size are what the pool budgets by.
async function setup(workerModuleBytes: number) {
  const module = await webAssembly.compile(instrumentFuel(await loadBuiltinModule("reverse")));
  const pool = new WasmWorkerPool({ size: 1, workerModuleBytes });
  pools.push(pool);
  const run = async (moduleId: string, moduleBytes: number, text = "abc") => {
    const task: WasmTask = {
      module,
      moduleId,
      moduleBytes,
      initial: 1,
      maximum: 16,
      maxOutputBytes: 1024,
      fuel: 1e9,
      input: new TextEncoder().encode(text).buffer as ArrayBuffer,
    };
    const { output } = await pool.run(task, { timeoutMs: 10_000, signal: new AbortController().signal });
    return new TextDecoder().decode(output);
  };
  return { pool, run };
}

describe("WasmWorkerPool: per-worker module budget", () => {
  it("keeps a worker while its distinct modules fit the budget, however often they run", async () => {
    const { pool, run } = await setup(100);
    for (const id of ["a", "b", "a", "b", "a"]) expect(await run(id, 50)).toBe("cba");
    expect(pool.stats()).toEqual({ workers: 1, started: 1, recycled: 0 });
  });

  it("replaces a worker before it takes a new module that would pass the budget", async () => {
    const { pool, run } = await setup(100);
    expect(await run("a", 60)).toBe("cba");
    expect(await run("b", 60, "xyz")).toBe("zyx");
    expect(pool.stats()).toEqual({ workers: 1, started: 2, recycled: 1 });
    // the fresh worker has run only b: b again is free, a new one passes the budget again
    await run("b", 60);
    expect(pool.stats().recycled).toBe(1);
    await run("a", 60);
    expect(pool.stats()).toEqual({ workers: 1, started: 3, recycled: 2 });
  });

  it("runs a module larger than the budget on one worker without replacing it each time", async () => {
    const { pool, run } = await setup(100);
    for (let i = 0; i < 3; i++) expect(await run("huge", 1000)).toBe("cba");
    expect(pool.stats()).toEqual({ workers: 1, started: 1, recycled: 0 });
  });
});

describe("WasmWorkerPool: references", () => {
  it("keeps no finished job's module alive", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const pool = new WasmWorkerPool({ size: 1 });
    pools.push(pool);
    const bytes = instrumentFuel(await loadBuiltinModule("reverse"));
    // a module referenced only through the job it ran, and a WeakRef
    const ran = async (): Promise<WeakRef<object>> => {
      const module = await webAssembly.compile(bytes);
      const input = new Uint8Array(3).buffer;
      const task = {
        module,
        moduleId: "m",
        moduleBytes: 1,
        initial: 1,
        maximum: 1,
        maxOutputBytes: 8,
        fuel: 1e9,
        input,
      };
      await pool.run(task, { timeoutMs: 10_000, signal: new AbortController().signal });
      return new WeakRef(module);
    };
    const ref = await ran();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(ref.deref()).toBeUndefined();
  });
});

describe("WasmWorkerPool: memory of finished jobs", () => {
  // an idle worker's GC never ran, so a job that had grown to 4 GiB kept 4 GiB resident until
  // that worker's next job (measured: rss 4193 MB three seconds after the job ended)
  it("ends a worker whose job left a large memory, and keeps one whose job stayed small", async () => {
    const grower = await webAssembly.compile(
      instrumentFuel(
        await compileWat(`(module (import "env" "memory" (memory 1))
        (func (export "alloc") (param i32) (result i32) (i32.const 16))
        (func (export "run") (param i32 i32) (result i32)
          (if (i32.gt_u (local.get 1) (i32.const 1)) (then (drop (memory.grow (i32.const 40)))))
          (i32.const 0)))`),
      ),
    );
    const pool = new WasmWorkerPool({ size: 1, retireAfterMemoryBytes: 1024 * 1024 });
    pools.push(pool);
    const run = (input: number) =>
      pool.run(
        {
          module: grower,
          moduleId: "grower",
          moduleBytes: 100,
          initial: 1,
          maximum: 64,
          maxOutputBytes: 1024,
          fuel: 1e9,
          input: new Uint8Array(input).buffer,
        },
        { timeoutMs: 10_000, signal: new AbortController().signal },
      );
    await run(1); // stays at one page
    expect(pool.stats()).toEqual({ workers: 1, started: 1, recycled: 0 });
    await run(2); // grows to 41 pages, 2.6 MiB
    expect(pool.stats()).toEqual({ workers: 0, started: 1, recycled: 0 });
    await run(1);
    expect(pool.stats()).toEqual({ workers: 1, started: 2, recycled: 0 });
  });
});
