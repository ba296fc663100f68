// Fuel schedule v1 (fuel.ts): what instrumented modules burn, worked out by hand, and that the
// pass is deterministic, keeps behaviour, decodes every instruction family and refuses what it cannot meter.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JobFault } from "../types.js";
import { FUEL_EXPORT, FUEL_SCHEDULE, instrumentFuel, START_EXPORT } from "./fuel.js";
import { BUILTIN_MODULES, compileWat, loadBuiltinModule, type WatFeatures } from "./modules.js";

// The slice of the WebAssembly JS API these tests use (the project's lib has no WebAssembly types).
interface WasmGlobal {
  value: bigint;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum?: number }) => { buffer: ArrayBuffer };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Fn = (...args: number[]) => number;

/** Instantiates a WAT module both plain and instrumented, each on its own memory. */
async function load(wat: string, features?: WatFeatures) {
  const plainBytes = await compileWat(wat, "test.wat", features);
  const bytes = instrumentFuel(plainBytes);
  expect(wasm.validate(bytes)).toBe(true);
  const instantiate = (b: Uint8Array) => {
    const memory = new wasm.Memory({ initial: 1, maximum: 8 });
    return { memory, exports: new wasm.Instance(new wasm.Module(b), { env: { memory } }).exports };
  };
  const plain = instantiate(plainBytes);
  const metered = instantiate(bytes);
  const fuel = metered.exports[FUEL_EXPORT] as WasmGlobal;
  /** calls an export of the instrumented module with `limit` fuel: its result and the fuel it burned */
  const call = (name: string, args: number[], limit = 1_000_000_000) => {
    fuel.value = BigInt(limit);
    const result = (metered.exports[name] as Fn)(...args);
    return { result, burned: Number(BigInt(limit) - fuel.value) };
  };
  const callPlain = (name: string, args: number[]) => (plain.exports[name] as Fn)(...args);
  return { bytes, plainBytes, call, callPlain, fuel, metered, plain };
}

const MEMORY = `(import "env" "memory" (memory 1 8))`;

// sum(n) = n + (n-1) + ... + 1, with the segments of schedule v1 marked:
const SUM = `(module
  (func (export "sum") (param $n i32) (result i32) (local $acc i32)
    block $done      ;; entry segment: [block] 1, checked
      loop $top      ;; [loop] 1
        local.get $n ;; loop header: [local.get i32.eqz br_if] 3, checked, every iteration and the last test
        i32.eqz
        br_if $done
        local.get $acc ;; [local.get local.get i32.add local.set local.get i32.const i32.sub local.set br] 9
        local.get $n
        i32.add
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $top
      end            ;; [end] after br: never runs
    end              ;; [end] after the loop's end: never runs (the loop only leaves by br_if)
    local.get $acc)) ;; after the block: [local.get end] 2
`;

describe("fuel schedule v1: what a program burns", () => {
  it("charges sum(n) 12n + 7 fuel, worked out by hand", async () => {
    const m = await load(SUM);
    expect(FUEL_SCHEDULE).toBe(1);
    for (const n of [0, 1, 10, 1000]) {
      expect(m.call("sum", [n])).toEqual({ result: (n * (n + 1)) / 2, burned: 12 * n + 7 });
    }
  });

  it("charges each call its callee's instructions", async () => {
    const m = await load(`(module
      (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "twice") (param i32) (result i32) (call $inc (call $inc (local.get 0)))))`);
    // twice: local.get call call end = 4; inc: local.get i32.const i32.add end = 4, twice
    expect(m.call("twice", [5])).toEqual({ result: 7, burned: 12 });
  });

  it("charges only the branch an if/else takes", async () => {
    const m = await load(`(module (func (export "pick") (param i32) (result i32)
      (if (result i32) (local.get 0)
        (then (i32.add (i32.const 1) (i32.const 2)))
        (else (i32.const 2)))))`);
    // [local.get if] 2; then [i32.const i32.const i32.add else] 4; else [i32.const end] 2; after [end] 1
    expect(m.call("pick", [1])).toEqual({ result: 3, burned: 7 });
    expect(m.call("pick", [0])).toEqual({ result: 2, burned: 5 });
  });

  it("charges the segment a br_table jumps to, and nested blocks", async () => {
    const m = await load(`(module (func (export "jump") (param i32) (result i32)
      block $a
        block $b
          local.get 0
          br_table $a $b $b
        end
        i32.const 20
        i32.const 1
        i32.add
        return
      end
      i32.const 10))`);
    // [block] 1, [block] 1, [local.get br_table] 2; to $b: [i32.const i32.const i32.add return] 4;
    // to $a: [i32.const end] 2
    expect(m.call("jump", [0])).toEqual({ result: 10, burned: 6 });
    expect(m.call("jump", [1])).toEqual({ result: 21, burned: 8 });
    expect(m.call("jump", [7])).toEqual({ result: 21, burned: 8 });
  });

  it("moves the start function to an export the host calls once the fuel is set", async () => {
    const m = await load(`(module
      (global $g (mut i32) (i32.const 0))
      (func $init (global.set $g (i32.const 5)))
      (start $init)
      (func (export "get") (result i32) (global.get $g)))`);
    expect(m.callPlain("get", [])).toBe(5); // the plain module ran its start at instantiation
    expect(m.call("get", [])).toEqual({ result: 0, burned: 2 }); // the instrumented one has not
    expect(m.call(START_EXPORT, [])).toEqual({ result: undefined, burned: 3 }); // i32.const global.set end
    expect(m.call("get", []).result).toBe(5);
  });

  it("traps at a function's entry once the fuel is spent, and at every loop header", async () => {
    const m = await load(SUM);
    expect(() => m.call("sum", [0], 0)).toThrow(/unreachable/);
    // 12n + 7 fuel pays for the whole run; one less overspends in the last, unchecked segment,
    // which the host sees after the call; more than a segment less traps at a loop header
    expect(m.call("sum", [100], 1207)).toEqual({ result: 5050, burned: 1207 });
    expect(m.call("sum", [100], 1206).burned).toBe(1207);
    expect(m.fuel.value).toBe(-1n);
    expect(() => m.call("sum", [100], 1000)).toThrow(/unreachable/);
    expect(m.fuel.value).toBeLessThan(0n);
    expect(() => m.call("sum", [100_000_000], 50)).toThrow(/unreachable/); // stops at a loop header
  });
});

describe("fuel schedule v1: instructions with a run-time size", () => {
  const BULK = `(module ${MEMORY}
    (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 7) (local.get 0)))
    (func (export "copy") (param i32) (memory.copy (i32.const 4096) (i32.const 0) (local.get 0)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

  it("charges memory.fill and memory.copy 1 fuel per whole 16 bytes on top", async () => {
    const m = await load(BULK);
    // fill: i32.const i32.const local.get memory.fill end = 5
    expect(m.call("fill", [15]).burned).toBe(5);
    expect(m.call("fill", [100]).burned).toBe(5 + 6);
    expect(m.call("fill", [4096]).burned).toBe(5 + 256);
    expect(m.call("copy", [100]).burned).toBe(5 + 6);
    expect(new Uint8Array(m.metered.memory.buffer, 4096, 100).every((b) => b === 7)).toBe(true);
  });

  it("charges memory.grow 4096 fuel per page asked for, granted or not", async () => {
    const m = await load(BULK);
    // local.get memory.grow end = 3
    expect(m.call("grow", [0])).toEqual({ result: 1, burned: 3 });
    expect(m.call("grow", [2])).toEqual({ result: 1, burned: 3 + 2 * 4096 });
    expect(m.call("grow", [100])).toEqual({ result: -1, burned: 3 + 100 * 4096 });
  });

  it("stops a sized instruction it cannot pay for before it runs", async () => {
    const m = await load(BULK);
    expect(() => m.call("fill", [1000], 10)).toThrow(/unreachable/);
    expect(new Uint8Array(m.metered.memory.buffer, 0, 1000).every((b) => b === 0)).toBe(true);
  });
});

describe("fuel instrumentation: decoding", () => {
  it("decodes SIMD (memarg, lanes, 16-byte immediates) and runs it as the plain module does", async () => {
    const m = await load(
      `(module ${MEMORY}
        (func (export "simd") (param i32) (result i32)
          (v128.store (i32.const 0) (v128.const i32x4 1 2 3 4))
          (i32x4.extract_lane 2
            (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
              (v128.load32_lane 1 (i32.const 0) (i32x4.add (v128.load (i32.const 0)) (i32x4.splat (local.get 0))))
              (v128.load64_zero (i32.const 8))))))`,
      { simd: true },
    );
    expect(m.call("simd", [10]).result).toBe(m.callPlain("simd", [10]));
    expect(m.call("simd", [10]).result).toBe(13);
  });

  it("decodes exception handling and tail calls and runs them as the plain module does", async () => {
    const m = await load(
      `(module
        (tag $e (param i32))
        (func $thrower (param i32) (throw $e (local.get 0)))
        (func $tail (param i32) (result i32) (return_call $inner (local.get 0)))
        (func $inner (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
        (func (export "eh") (param i32) (result i32)
          (try (result i32)
            (do
              (try (result i32)
                (do (call $thrower (local.get 0)) (i32.const 0))
                (delegate 0)))
            (catch $e (call $tail))
            (catch_all (i32.const -1))))
        (func (export "rethrows") (result i32)
          (try (result i32)
            (do (try (do (call $thrower (i32.const 4))) (catch_all (rethrow 0))) (i32.const 0))
            (catch $e))))`,
      { exceptions: true, tail_call: true },
    );
    expect(m.call("eh", [7]).result).toBe(21);
    expect(m.callPlain("eh", [7])).toBe(21);
    expect(m.call("rethrows", []).result).toBe(4);
    expect(m.call("eh", [7]).burned).toBe(m.call("eh", [7]).burned);
  });

  it("decodes multi-value block types with params, and keeps the stack they carry", async () => {
    const m = await load(`(module
      (type $pair (func (param i32 i32) (result i32 i32)))
      (func (export "swapdiff") (param i32 i32) (result i32)
        (local.get 0) (local.get 1)
        (block (type $pair) (param i32 i32) (result i32 i32)
          (local.set 0) (local.set 1) (local.get 0) (local.get 1))
        (i32.sub)))`);
    // [local.get local.get block] 3; [local.set local.set local.get local.get end] 5; [i32.sub end] 2
    expect(m.call("swapdiff", [10, 3])).toEqual({ result: -7, burned: 10 });
    expect(m.callPlain("swapdiff", [10, 3])).toBe(-7);
  });

  it("decodes reference-type and table instructions and charges table.fill / table.grow 1 fuel per entry", async () => {
    const m = await load(`(module
      (table $t 4 64 funcref)
      (func $f (result i32) (i32.const 42))
      (elem declare func $f)
      (func (export "fill") (param i32) (table.fill $t (i32.const 0) (ref.func $f) (local.get 0)))
      (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
      (func (export "callAt") (param i32) (result i32)
        (select (result i32) (i32.const 1) (i32.const 0) (ref.is_null (table.get $t (local.get 0))))
        (if (result i32) (then (i32.const -1)) (else (call_indirect $t (result i32) (local.get 0))))))`);
    // fill: i32.const ref.func local.get table.fill end = 5, + n
    expect(m.call("fill", [3]).burned).toBe(5 + 3);
    expect(m.call("callAt", [2]).result).toBe(42);
    expect(m.call("callAt", [3]).result).toBe(-1);
    // grow: ref.null local.get table.grow end = 4, + n, granted or not
    expect(m.call("grow", [10])).toEqual({ result: 4, burned: 4 + 10 });
    expect(m.call("grow", [100])).toEqual({ result: -1, burned: 4 + 100 });
  });

  // one function of type () -> () with the given body bytes (locals vector included)
  function moduleWithBody(body: number[]): Uint8Array {
    const code = [0x01, body.length, ...body];
    return Uint8Array.from([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00], // type () -> ()
      ...[0x03, 0x02, 0x01, 0x00], // one function of type 0
      ...[0x0a, code.length, ...code],
    ]);
  }

  it("refuses an instruction it does not know with a JobFault naming the opcode", () => {
    expect(wasm.validate(moduleWithBody([0x00, 0x01, 0x0b]))).toBe(true);
    expect(() => instrumentFuel(moduleWithBody([0x00, 0x14, 0x00, 0x0b]))).toThrow(
      new JobFault("wasm module uses an instruction fuel metering does not know: 0x14"),
    );
    expect(() => instrumentFuel(moduleWithBody([0x00, 0xfd, 0x80, 0x02, 0x0b]))).toThrow(
      new JobFault("wasm module uses an instruction fuel metering does not know: 0xfd 0x100"),
    );
    expect(() => instrumentFuel(moduleWithBody([0x00, 0xfb, 0x00, 0x0b]))).toThrow(/does not know: 0xfb/);
  });

  it("refuses a body naming a global or local it does not have (it could reach the fuel)", () => {
    // global 0 does not exist in the module, but would be the fuel once instrumented
    expect(() => instrumentFuel(moduleWithBody([0x00, 0x23, 0x00, 0x1a, 0x0b]))).toThrow(JobFault);
    expect(() => instrumentFuel(moduleWithBody([0x00, 0x20, 0x00, 0x1a, 0x0b]))).toThrow(JobFault);
  });

  it("refuses a module that already exports a name the host reserves", async () => {
    for (const name of [FUEL_EXPORT, START_EXPORT]) {
      const bytes = await compileWat(`(module (func (export "${name}")))`);
      expect(() => instrumentFuel(bytes)).toThrow(
        new JobFault(`wasm module exports ${name}, a name the host reserves for fuel metering`),
      );
    }
  });

  it("refuses bytes that are not wasm with a JobFault, not a crash", () => {
    expect(() => instrumentFuel(new TextEncoder().encode("not wasm at all"))).toThrow(JobFault);
    expect(() => instrumentFuel(moduleWithBody([0x00, 0x41]))).toThrow(JobFault); // cut short
  });
});

describe("fuel instrumentation: determinism", () => {
  it("gives the same bytes every time, valid and exporting the fuel, for every built-in module", async () => {
    for (const name of BUILTIN_MODULES) {
      const bytes = await loadBuiltinModule(name);
      const once = instrumentFuel(bytes);
      expect(instrumentFuel(bytes.slice())).toEqual(once);
      expect(wasm.validate(once)).toBe(true);
    }
  });

  it("keeps schedule v1's encoding: the instrumented sum module hashes as pinned", async () => {
    // a change here changes what every node computes: it needs a new FUEL_SCHEDULE
    const bytes = instrumentFuel(await compileWat(SUM));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(
      "058b892a0985665f9b81e0820b3ea63770a1cf20de9bbd82b13e41a9fb8b31e7",
    );
  });
});

describe("fuel instrumentation: arbitrary bytes", () => {
  // Byte edits of the built-in modules: most break the module, some leave it valid with other
  // immediates, types or sections. Whatever comes in, the pass refuses it with a JobFault (the
  // job's fault, not retried) or returns a module that is valid whenever the input was.
  const edit = fc.oneof(
    fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant("insert" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant("delete" as const), at: fc.nat(), byte: fc.constant(0) }),
    fc.record({ op: fc.constant("cut" as const), at: fc.nat(), byte: fc.constant(0) }),
  );
  const apply = (bytes: Uint8Array, edits: { op: string; at: number; byte: number }[]) => {
    let out = Array.from(bytes);
    for (const { op, at, byte } of edits) {
      const i = at % (out.length + 1);
      if (op === "set" && i < out.length) out[i] = byte;
      else if (op === "insert") out.splice(i, 0, byte);
      else if (op === "delete") out.splice(i, 1);
      else if (op === "cut") out = out.slice(0, i);
    }
    return Uint8Array.from(out);
  };

  it("refuses with a JobFault or keeps a valid module valid, for every built-in module edited", async () => {
    const modules = await Promise.all(BUILTIN_MODULES.map((name) => loadBuiltinModule(name)));
    let keptValid = 0;
    fc.assert(
      fc.property(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 3 }), (which, edits) => {
        const bytes = apply(modules[which % modules.length] as Uint8Array, edits);
        let out: Uint8Array;
        try {
          out = instrumentFuel(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(JobFault);
          return;
        }
        if (wasm.validate(bytes)) {
          expect(wasm.validate(out)).toBe(true);
          keptValid++;
        }
      }),
      {
        numRuns: Number(process.env.TESSERA_FUZZ_RUNS ?? 20_000),
        seed: Number(process.env.TESSERA_FUZZ_SEED ?? 20261207),
      },
    );
    // the edits reached valid modules often enough to mean something
    expect(keptValid).toBeGreaterThan(200);
  });
});
