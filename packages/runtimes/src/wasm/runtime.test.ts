import { randomBytes } from "node:crypto";
import { MAX_WASM_FUEL, MAX_WASM_OUTPUT_BYTES, sha256Hex, type WasmJobSpec, WasmOutputSchema } from "@tessera/protocol";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ExecuteContext, type ExecuteResult, JobFault, type Runtime } from "../types.js";
import { instrumentFuel } from "./fuel.js";
import { BUILTIN_MODULES, type BuiltinModuleName, compileWat, loadBuiltinModule } from "./modules.js";
import { createWasmRuntime } from "./runtime.js";

// A content store in memory: modules and blobs by sha256, as a provider would fetch them.
async function setup(options: { poolSize?: number } = {}) {
  const store = new Map<string, Uint8Array>();
  const put = (bytes: Uint8Array) => {
    const id = sha256Hex(bytes);
    store.set(id, bytes);
    return id;
  };
  const ids = {} as Record<BuiltinModuleName, string>;
  for (const name of BUILTIN_MODULES) ids[name] = put(await loadBuiltinModule(name));
  const fetch = async (id: string) => {
    const bytes = store.get(id);
    if (!bytes) throw new Error(`not found: ${id}`);
    return bytes;
  };
  const fetchModule = vi.fn(fetch);
  const fetchBlob = vi.fn(fetch);
  const runtime = createWasmRuntime({ fetchModule, fetchBlob, poolSize: options.poolSize ?? 2 });
  opened.push(runtime);
  return { runtime, ids, put, store, fetchModule, fetchBlob };
}

const opened: Runtime<WasmJobSpec>[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
});

function job(module: string, input: string | Uint8Array, limits: Partial<WasmJobSpec["limits"]> = {}): WasmJobSpec {
  return {
    runtime: "wasm",
    module,
    input: { data: Buffer.from(input).toString("base64") },
    limits: { timeoutMs: 10_000, maxMemoryMb: 64, ...limits },
  };
}

function ctx(signal: AbortSignal = new AbortController().signal): ExecuteContext {
  return { jobId: "job-1", attempt: 1, signal };
}

function bytes(result: ExecuteResult): Buffer {
  return Buffer.from((result.output as { data: string }).data, "base64");
}

function text(result: ExecuteResult): string {
  return bytes(result).toString();
}

const MEMORY = `(import "env" "memory" (memory 1))`;
const ALLOC = `(func (export "alloc") (param i32) (result i32) (i32.const 1024))`;

describe("wasm runtime: built-in modules", () => {
  it("reverse returns the input bytes reversed", async () => {
    const { runtime, ids } = await setup();
    expect(text(await runtime.execute(job(ids.reverse, "hello, world"), ctx()))).toBe("dlrow ,olleh");
    expect(text(await runtime.execute(job(ids.reverse, ""), ctx()))).toBe("");
  });

  it("wordcount counts whitespace-separated words and bytes as JSON", async () => {
    const { runtime, ids } = await setup();
    const input = "  the quick\tbrown\r\n\nfox\vjumps ";
    const out = JSON.parse(text(await runtime.execute(job(ids.wordcount, input), ctx())));
    expect(out).toEqual({ words: 5, bytes: Buffer.byteLength(input) });
    expect(text(await runtime.execute(job(ids.wordcount, ""), ctx()))).toBe('{"words":0,"bytes":0}');
  });

  it("primes counts the primes up to n", async () => {
    const { runtime, ids } = await setup();
    const cases: [string, string][] = [
      ["0", "0"],
      ["1", "0"],
      ["2", "1"],
      ["3", "2"],
      ["10", "4"],
      ["100", "25"],
      ["7919", "1000"],
      ["100000", "9592"],
    ];
    for (const [n, count] of cases) expect(text(await runtime.execute(job(ids.primes, n), ctx()))).toBe(count);
  });

  it("primes traps on input that is not a decimal number: a result saying so, billed the fuel burned", async () => {
    const { runtime, ids } = await setup();
    for (const input of ["12a", ""]) {
      expect(await runtime.execute(job(ids.primes, input), ctx())).toEqual({
        output: { data: "", trap: "wasm trap: unreachable" },
        units: { inputTokens: 0, outputTokens: 0, standardUnits: 1 },
      });
    }
  });

  it("meters standard units and no tokens", async () => {
    const { runtime, ids } = await setup();
    const { units } = await runtime.execute(job(ids.primes, "50000"), ctx());
    expect(units.inputTokens).toBe(0);
    expect(units.outputTokens).toBe(0);
    expect(Number.isInteger(units.standardUnits)).toBe(true);
    expect(units.standardUnits).toBeGreaterThanOrEqual(1);
  });
});

// run loops n times, n the u32 at the input: alloc burns 2 fuel (i32.const end), run 12n + 10
// (fuel.test.ts works the same loop out by hand), so a job burns 12n + 12 fuel in all.
const COUNT = `(module ${MEMORY} ${ALLOC}
  (func (export "run") (param $ptr i32) (param $len i32) (result i32) (local $n i32) (local $acc i32)
    local.get $ptr
    i32.load
    local.set $n
    block $done
      loop $top
        local.get $n
        i32.eqz
        br_if $done
        local.get $acc
        local.get $n
        i32.add
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $top
      end
    end
    i32.const 0))`;
const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer);

describe("wasm runtime: fuel", () => {
  it("bills the exact fuel burned: ceil((12n + 12) / 10⁷) standard units", async () => {
    const { runtime, put } = await setup();
    const count = put(await compileWat(COUNT));
    const units = async (n: number) => (await runtime.execute(job(count, u32(n)), ctx())).units;
    expect(await units(0)).toEqual({ inputTokens: 0, outputTokens: 0, standardUnits: 1 });
    expect((await units(833_332)).standardUnits).toBe(1); // 9,999,996 fuel
    expect((await units(833_333)).standardUnits).toBe(2); // 10,000,008 fuel
    expect((await units(10_000_000)).standardUnits).toBe(13); // 120,000,012 fuel
  });

  it("runs a job on exactly the fuel it needs and, on one less, ends it out of fuel, billed the whole limit", async () => {
    const { runtime, put } = await setup();
    const count = put(await compileWat(COUNT));
    const input = u32(1_000_000);
    const ok = await runtime.execute(job(count, input, { maxFuel: 12_000_012 }), ctx());
    expect(ok.units.standardUnits).toBe(2);
    expect(ok.output).not.toHaveProperty("outOfFuel");
    expect(await runtime.execute(job(count, input, { maxFuel: 12_000_011 }), ctx())).toEqual({
      output: { data: "", outOfFuel: true },
      units: { inputTokens: 0, outputTokens: 0, standardUnits: 2 },
    });
  });

  it("stops a spinning job when its fuel runs out, the same every time, well before its time cap", async () => {
    const { runtime, ids } = await setup({ poolSize: 1 });
    for (let i = 0; i < 3; i++) {
      expect(await runtime.execute(job(ids.spin, "", { timeoutMs: 60_000, maxFuel: 1_000 }), ctx())).toEqual({
        output: { data: "", outOfFuel: true },
        units: { inputTokens: 0, outputTokens: 0, standardUnits: 1 },
      });
    }
    expect(text(await runtime.execute(job(ids.reverse, "ok"), ctx()))).toBe("ko");
  });

  it("runs a module's start function once the fuel is set, before alloc and run", async () => {
    const { runtime, put } = await setup();
    // start writes the output (4-byte length, then "hi") that run points at
    const started = put(
      await compileWat(`(module ${MEMORY} ${ALLOC}
        (func $init (i32.store (i32.const 0) (i32.const 2)) (i32.store16 (i32.const 4) (i32.const 0x6968)))
        (start $init)
        (func (export "run") (param i32 i32) (result i32) (i32.const 0)))`),
    );
    expect(text(await runtime.execute(job(started, ""), ctx()))).toBe("hi");
  });

  it("refuses a module exporting a name the fuel metering reserves", async () => {
    const { runtime, put } = await setup();
    const squatter = put(
      await compileWat(`(module ${MEMORY} ${ALLOC} (global (export "tessera:fuel") i64 (i64.const 0))
        (func (export "run") (param i32 i32) (result i32) (i32.const 0)))`),
    );
    await expect(runtime.execute(job(squatter, ""), ctx())).rejects.toThrow(
      new JobFault("wasm module exports tessera:fuel, a name the host reserves for fuel metering"),
    );
  });

  it("gives a job without maxFuel timeoutMs × 3·10⁷ fuel", async () => {
    const { runtime, put } = await setup();
    // asks for k pages once (refused: past the cap, but charged 4096 fuel a page): 8 + 4096k fuel
    const asks = put(
      await compileWat(`(module ${MEMORY} ${ALLOC}
        (func (export "run") (param i32 i32) (result i32) (drop (memory.grow (i32.load (local.get 0)))) (i32.const 0)))`),
    );
    const limits = { timeoutMs: 1_000 }; // 3·10¹⁰ fuel
    const fits = await runtime.execute(job(asks, u32(7_324_218), limits), ctx()); // 29,999,996,936 fuel
    expect(fits.units.standardUnits).toBe(3_000);
    const out = await runtime.execute(job(asks, u32(7_324_219), limits), ctx());
    expect(out).toEqual({ output: { data: "", outOfFuel: true }, units: { ...fits.units, standardUnits: 3_000 } });
  });
});

describe("wasm runtime: determinism", () => {
  it("gives the same output bytes on every worker and every runtime", async () => {
    const a = await setup({ poolSize: 2 });
    const b = await setup({ poolSize: 1 });
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => a.runtime.execute(job(a.ids.primes, "30000"), ctx())),
    );
    runs.push(await b.runtime.execute(job(b.ids.primes, "30000"), ctx()));
    const hashes = new Set(runs.map((r) => sha256Hex((r.output as { data: string }).data)));
    expect(hashes.size).toBe(1);
    expect(new Set(runs.map((r) => r.units.standardUnits)).size).toBe(1); // fuel, not time: the same everywhere
    expect(text(runs[0] as ExecuteResult)).toBe("3245");
  });

  it("starts every job on fresh memory, even on a reused worker", async () => {
    const { runtime, put } = await setup({ poolSize: 1 });
    // Returns the byte it finds at 2048 (0 in fresh memory), after setting it to 0xff.
    const dirty = put(
      await compileWat(`(module ${MEMORY} ${ALLOC}
        (func (export "run") (param i32 i32) (result i32)
          (i32.store (i32.const 4096) (i32.const 1))
          (i32.store8 (i32.const 4100) (i32.load8_u (i32.const 2048)))
          (i32.store8 (i32.const 2048) (i32.const 255))
          (i32.const 4096)))`),
    );
    for (let i = 0; i < 5; i++) {
      const out = await runtime.execute(job(dirty, ""), ctx());
      expect((out.output as { data: string }).data).toBe(Buffer.from([0]).toString("base64"));
    }
  });
});

describe("wasm runtime: content checks and compilation", () => {
  it("rejects module bytes that do not hash to the module id", async () => {
    const { runtime, ids, store } = await setup();
    store.set(ids.wordcount, store.get(ids.reverse) as Uint8Array);
    await expect(runtime.execute(job(ids.wordcount, "a b"), ctx())).rejects.toThrow(/not to the module id/);
  });

  it("reads input from a blob and rejects a blob that does not match its id", async () => {
    const { runtime, ids, put, store } = await setup();
    const blob = put(Buffer.from("abc"));
    const spec: WasmJobSpec = { ...job(ids.reverse, ""), input: { blob } };
    expect(text(await runtime.execute(spec, ctx()))).toBe("cba");
    expect(Buffer.from(store.get(blob) as Uint8Array).toString()).toBe("abc"); // caller's bytes untouched
    store.set(blob, Buffer.from("abd"));
    await expect(runtime.execute(spec, ctx())).rejects.toThrow(JobFault);
  });

  it("fetches and compiles a module once for many jobs", async () => {
    const { runtime, ids, fetchModule } = await setup();
    await Promise.all(Array.from({ length: 5 }, () => runtime.execute(job(ids.reverse, "x"), ctx())));
    await runtime.execute(job(ids.reverse, "y"), ctx());
    expect(fetchModule).toHaveBeenCalledTimes(1);
  });

  it("bounds the compiled-module cache by the modules' bytes, not only their count", async () => {
    const store = new Map<string, Uint8Array>();
    const ids = {} as Record<BuiltinModuleName, string>;
    for (const name of ["reverse", "primes"] as const) {
      const bytes = await loadBuiltinModule(name);
      ids[name] = sha256Hex(bytes);
      store.set(ids[name], bytes);
    }
    const fetchModule = vi.fn(async (id: string) => store.get(id) as Uint8Array);
    // room for either module, not both (the cache holds them instrumented for fuel)
    const moduleCacheBytes = Math.max(...[...store.values()].map((b) => instrumentFuel(b).byteLength));
    const runtime = createWasmRuntime({ fetchModule, fetchBlob: fetchModule, moduleCacheBytes });
    opened.push(runtime);
    await runtime.execute(job(ids.reverse, "ab"), ctx());
    await runtime.execute(job(ids.reverse, "ab"), ctx());
    expect(fetchModule).toHaveBeenCalledTimes(1);
    await runtime.execute(job(ids.primes, "10"), ctx()); // evicts reverse
    await runtime.execute(job(ids.primes, "10"), ctx());
    expect(fetchModule).toHaveBeenCalledTimes(2);
    expect(text(await runtime.execute(job(ids.reverse, "ab"), ctx()))).toBe("ba");
    expect(fetchModule.mock.calls.map(([id]) => id)).toEqual([ids.reverse, ids.primes, ids.reverse]);
  });

  it("rejects a module that breaks the ABI before running it", async () => {
    const { runtime, put } = await setup();
    const withClock = put(
      await compileWat(`(module ${MEMORY} (import "env" "now" (func (result f64))) ${ALLOC}
        (func (export "run") (param i32 i32) (result i32) (i32.const 0)))`),
    );
    await expect(runtime.execute(job(withClock, ""), ctx())).rejects.toThrow(/imports env\.now/);
  });

  it("says a module ended by an uncaught wasm exception, not [object WebAssembly.Exception]", async () => {
    const { runtime, put } = await setup();
    const thrower = put(
      await compileWat(
        `(module ${MEMORY} (tag $oops) ${ALLOC}
          (func (export "run") (param i32 i32) (result i32) (throw $oops)))`,
        "throws.wat",
        { exceptions: true },
      ),
    );
    expect((await runtime.execute(job(thrower, ""), ctx())).output).toEqual({
      data: "",
      trap: "wasm job failed: the module threw a WebAssembly exception (throw of one of its tags) that it never caught",
    });
  });

  it("rejects bytes that are not WebAssembly", async () => {
    const { runtime, put } = await setup();
    const junk = put(Buffer.from("not wasm at all"));
    await expect(runtime.execute(job(junk, ""), ctx())).rejects.toThrow(/does not compile/);
  });

  it("fails a job whose result lies outside memory", async () => {
    const { runtime, put } = await setup();
    const bad = put(
      await compileWat(`(module ${MEMORY} ${ALLOC} (func (export "run") (param i32 i32) (result i32) (i32.const -8)))`),
    );
    expect((await runtime.execute(job(bad, ""), ctx())).output).toEqual({
      data: "",
      trap: "wasm module broke the ABI: run returned 4294967288, past the end of memory (65536 bytes)",
    });
  });
});

describe("wasm runtime: caps", () => {
  it("fails a job over its time cap and keeps serving afterwards", async () => {
    const { runtime, ids } = await setup({ poolSize: 1 });
    // fuel enough for hours: the wall-clock cap is the safety net that stops it
    const limits = { timeoutMs: 200, maxFuel: MAX_WASM_FUEL };
    await expect(runtime.execute(job(ids.spin, "", limits), ctx())).rejects.toThrow(
      new JobFault("wasm job exceeded its time limit of 200 ms"),
    );
    expect(text(await runtime.execute(job(ids.reverse, "ok"), ctx()))).toBe("ko");
  });

  it("fails a job that grows memory past its cap", async () => {
    const { runtime, ids } = await setup();
    const { output } = await runtime.execute(job(ids.grow, "", { maxMemoryMb: 2 }), ctx());
    expect(output).toMatchObject({ data: "", trap: expect.stringMatching(/^wasm trap: .*cap of 32 pages/) });
    expect(text(await runtime.execute(job(ids.reverse, "ok"), ctx()))).toBe("ko");
  });

  it("stops a job whose input does not fit under the memory cap, at its own fault", async () => {
    const { runtime, ids } = await setup();
    // reverse's alloc traps when memory.grow is refused at the cap
    const { output } = await runtime.execute(job(ids.reverse, randomBytes(2 * 1024 * 1024), { maxMemoryMb: 1 }), ctx());
    expect(output).toEqual({ data: "", trap: "wasm trap: unreachable" });
  });

  it("refuses a module declaring a huge table instead of letting V8 abort the whole process", async () => {
    const { runtime, put, ids } = await setup({ poolSize: 1 });
    // 83 bytes: instantiating it needs more than the worker's heap, which V8 treats as fatal.
    const huge = put(
      await compileWat(`(module ${MEMORY} (table 10000000 funcref) ${ALLOC}
        (func (export "run") (param i32 i32) (result i32) (i32.const 0)))`),
    );
    const err = await runtime.execute(job(huge, ""), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFault);
    expect((err as Error).message).toMatch(/table with no maximum/);
    expect(text(await runtime.execute(job(ids.reverse, "ok"), ctx()))).toBe("ko");
  });

  it("table.grow stops at the table's declared maximum", async () => {
    const { runtime, put } = await setup();
    // run stores the results of growing by 10,000,000 (refused: -1) and then by 16 (old size 1).
    const grows = put(
      await compileWat(`(module ${MEMORY} (table $t 1 17 funcref) ${ALLOC}
        (func (export "run") (param i32 i32) (result i32)
          (i32.store (i32.const 0) (i32.const 8))
          (i32.store (i32.const 4) (table.grow $t (ref.null func) (i32.const 10000000)))
          (i32.store (i32.const 8) (table.grow $t (ref.null func) (i32.const 16)))
          (i32.const 0)))`),
    );
    const out = bytes(await runtime.execute(job(grows, ""), ctx()));
    expect([out.readInt32LE(0), out.readInt32LE(4)]).toEqual([-1, 1]);
  });

  it("fails a job whose output passes MAX_WASM_OUTPUT_BYTES, as the job's fault", async () => {
    const { runtime, put, ids } = await setup({ poolSize: 1 });
    // run claims a result of `input` bytes (a decimal number) at address 0 of a zeroed memory
    const pages = Math.ceil((MAX_WASM_OUTPUT_BYTES + 8) / 65_536);
    const claims = put(
      await compileWat(`(module (import "env" "memory" (memory ${pages})) ${ALLOC}
        (func (export "run") (param $p i32) (param $n i32) (result i32)
          (local $v i32) (local $i i32)
          (block $done (loop $digit
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10))
              (i32.sub (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 48))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $digit)))
          (i32.store (i32.const 0) (local.get $v))
          (i32.const 0)))`),
    );
    const limits = { maxMemoryMb: 32 };
    const tooMuch = await runtime.execute(job(claims, String(MAX_WASM_OUTPUT_BYTES + 1), limits), ctx());
    expect(tooMuch.output).toEqual({
      data: "",
      trap: `wasm job returned ${MAX_WASM_OUTPUT_BYTES + 1} bytes of output; the most allowed is ${MAX_WASM_OUTPUT_BYTES}`,
    });
    // the largest allowed output is a valid wire output; one more base64 quantum (3 bytes) is not
    const largest = await runtime.execute(job(claims, String(MAX_WASM_OUTPUT_BYTES), limits), ctx());
    expect(bytes(largest).length).toBe(MAX_WASM_OUTPUT_BYTES);
    expect(WasmOutputSchema.safeParse(largest.output).success).toBe(true);
    const over = Buffer.alloc(MAX_WASM_OUTPUT_BYTES + 3).toString("base64");
    expect(WasmOutputSchema.safeParse({ data: over }).success).toBe(false);
    expect(text(await runtime.execute(job(ids.reverse, "ok"), ctx()))).toBe("ko");
  });

  it("refuses a module that needs more memory at start than the cap", async () => {
    const { runtime, put } = await setup();
    const big = put(
      await compileWat(`(module (import "env" "memory" (memory 40)) ${ALLOC}
        (func (export "run") (param i32 i32) (result i32) (i32.const 0)))`),
    );
    await expect(runtime.execute(job(big, "", { maxMemoryMb: 2 }), ctx())).rejects.toThrow(/needs 40 pages/);
  });
});

describe("wasm runtime: cancellation", () => {
  it("aborting the signal stops a running job, and the pool still works", async () => {
    const { runtime, ids } = await setup({ poolSize: 1 });
    const controller = new AbortController();
    const running = runtime.execute(job(ids.spin, "", { timeoutMs: 60_000 }), ctx(controller.signal));
    setTimeout(() => controller.abort(), 100);
    const err = await running.catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(JobFault);
    expect((err as Error).name).toBe("AbortError");
    expect(text(await runtime.execute(job(ids.reverse, "ok"), ctx()))).toBe("ko");
  });

  it("aborting a queued job removes it without disturbing the running one", async () => {
    const { runtime, ids } = await setup({ poolSize: 1 });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await runtime.execute(job(ids.reverse, "warm"), ctx()); // compiled, so it queues at once
    const busyController = new AbortController();
    const busy = runtime.execute(job(ids.spin, "", { timeoutMs: 60_000 }), ctx(busyController.signal));
    const busyOutcome = busy.then(
      () => "settled",
      (e: unknown) => e,
    );
    await sleep(50); // spin holds the only worker
    const controller = new AbortController();
    const queued = runtime.execute(job(ids.reverse, "x"), ctx(controller.signal));
    await sleep(20); // and reverse waits behind it
    controller.abort();
    await expect(queued).rejects.toThrow(/abort/i);
    expect(await Promise.race([busyOutcome, sleep(20).then(() => "pending")])).toBe("pending");
    busyController.abort();
    expect(((await busyOutcome) as Error).name).toBe("AbortError");
  });

  it("rejects at once when the signal is already aborted", async () => {
    const { runtime, ids, fetchModule } = await setup();
    await expect(runtime.execute(job(ids.reverse, "x"), ctx(AbortSignal.abort()))).rejects.toThrow(/abort/i);
    expect(fetchModule).not.toHaveBeenCalled();
  });

  it("close rejects running jobs and later ones", async () => {
    const { runtime, ids } = await setup({ poolSize: 1 });
    const running = runtime.execute(job(ids.spin, "", { timeoutMs: 60_000 }), ctx()).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await runtime.close();
    expect(await running).toEqual(new Error("wasm runtime is closed"));
    await expect(runtime.execute(job(ids.reverse, "x"), ctx())).rejects.toThrow(/closed/);
  });
});

describe("wasm runtime: load", () => {
  it("runs many concurrent small jobs, each with its own correct output", async () => {
    const { runtime, ids } = await setup();
    const inputs = Array.from({ length: 500 }, (_, i) => randomBytes(i % 97));
    const signal = new AbortController().signal; // one signal shared by all, as a caller might
    const results = await Promise.all(inputs.map((input) => runtime.execute(job(ids.reverse, input), ctx(signal))));
    results.forEach((result, i) => {
      const expected = Buffer.from(inputs[i] as Buffer).reverse();
      expect((result.output as { data: string }).data).toBe(expected.toString("base64"));
    });
  });
});

describe("wasm runtime: arbitrary modules", () => {
  // Byte edits of the built-in modules that still validate (other constants, opcodes, types,
  // limits, exports): each runs twice, on fresh memory and whichever worker takes it, with a small
  // fuel limit. It must end as a result (output, out of fuel, or a trap, billed) or as a JobFault
  // (the job's fault), never anything else, and both runs must agree exactly: a verifier's re-run
  // is how WASM results are checked.
  it("ends every valid edited module as the same result twice, or as a JobFault", async () => {
    const { runtime, put } = await setup();
    const originals = await Promise.all(BUILTIN_MODULES.map((name) => loadBuiltinModule(name)));
    const validate = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly
      .validate;
    const edit = fc.record({ which: fc.nat(), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) });
    const edited = fc
      .sample(fc.array(edit, { minLength: 1, maxLength: 2 }), {
        numRuns: Number(process.env.TESSERA_FUZZ_RUNS ?? 6_000),
        seed: Number(process.env.TESSERA_FUZZ_SEED ?? 20261207),
      })
      .map((edits) => {
        const out = Uint8Array.from(originals[(edits[0]?.which ?? 0) % originals.length] as Uint8Array);
        for (const { at, byte } of edits) out[at % out.length] = byte;
        return out;
      })
      .filter((bytes) => validate(bytes));
    expect(edited.length).toBeGreaterThan(50);
    const outcome = (r: PromiseSettledResult<ExecuteResult>) =>
      r.status === "fulfilled" ? JSON.stringify(r.value) : `${(r.reason as Error).name}`;
    let results = 0;
    for (const bytes of edited) {
      const spec = job(put(bytes), "fuzz input", { timeoutMs: 5_000, maxMemoryMb: 16, maxFuel: 10_000_000 });
      const runs = await Promise.allSettled([runtime.execute(spec, ctx()), runtime.execute(spec, ctx())]);
      for (const r of runs) {
        if (r.status === "rejected") expect(r.reason).toBeInstanceOf(JobFault);
        else expect(WasmOutputSchema.safeParse(r.value.output).success).toBe(true);
      }
      expect(outcome(runs[1] as PromiseSettledResult<ExecuteResult>)).toBe(
        outcome(runs[0] as PromiseSettledResult<ExecuteResult>),
      );
      if (runs[0]?.status === "fulfilled") results++;
    }
    // some edits still ran to a result, so the agreement above was tested on real runs
    expect(results).toBeGreaterThan(10);
    // and the pool still runs an untouched module
    const reverse = await runtime.execute(job(put(originals[0] as Uint8Array), "abc"), ctx());
    expect(text(reverse)).toBe("cba");
  }, 300_000);
});
