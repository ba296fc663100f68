// Cost of fuel metering: the same WASM modules run plain and fuel-instrumented (fuel schedule v1,
// packages/runtimes/src/wasm/fuel.ts) in this process on V8, alternating which goes first, each run
// on a fresh instance and memory as the worker does it. Reports the instrumented / plain time of
// `run` per module (medians) and the fuel burned per microsecond of instrumented run time. Modules:
// the built-in reverse, wordcount and primes, and two compute-heavy loops written here in WAT
// (an f64 matrix multiply and an FNV-1a hash loop over a buffer). Outputs must match exactly.
//   npx tsx bench/wasm-fuel.ts [--reps 9] [--warmup 3]
import { DEFAULT_FUEL_PER_MS, fuelStandardUnits } from "@tessera/core";
import { compileWat, instrumentFuel, loadBuiltinModule, validateJobModule } from "@tessera/runtimes";
import { nonDefaultFlags, readFlags } from "./lib/flags.js";
import { commandLine, machine, type Row, writeResult } from "./lib/results.js";

const BENCH = "wasm-fuel";
const FLAGS = {
  reps: { help: "timed runs of each module, plain and instrumented alternating", default: 9 },
  warmup: { help: "untimed runs of each first (V8 tiers hot functions up from Liftoff)", default: 3 },
};
const flags = readFlags(BENCH, FLAGS);
const t0 = performance.now();

// The slice of the WebAssembly JS API used here (the project's lib has no WebAssembly types).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const MAX_PAGES = 1024; // 64 MiB, room for reverse's copy of a 4 MiB input
const FUEL = 10n ** 15n;

const ALLOC_1K = `(import "env" "memory" (memory 1)) (func (export "alloc") (param i32) (result i32) (i32.const 1024))`;

// C = A × B for n×n f64 matrices (n the u32 input); output: the sum of C's entries, 8 bytes.
const MATMUL = `(module ${ALLOC_1K}
  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $n i32) (local $nn i32) (local $a i32) (local $b i32) (local $c i32)
    (local $i i32) (local $j i32) (local $k i32) (local $sum f64) (local $total f64)
    (local.set $n (i32.load (local.get $ptr)))
    (local.set $nn (i32.shl (i32.mul (local.get $n) (local.get $n)) (i32.const 3)))
    (local.set $a (i32.const 65536))
    (local.set $b (i32.add (local.get $a) (local.get $nn)))
    (local.set $c (i32.add (local.get $b) (local.get $nn)))
    (drop (memory.grow (i32.sub (i32.add (i32.shr_u (i32.add (local.get $c) (local.get $nn)) (i32.const 16)) (i32.const 1)) (memory.size))))
    (block $fd (loop $fl
      (br_if $fd (i32.ge_u (local.get $i) (i32.mul (local.get $n) (local.get $n))))
      (f64.store (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 3))) (f64.convert_i32_u (i32.rem_u (local.get $i) (i32.const 7))))
      (f64.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))) (f64.convert_i32_u (i32.rem_u (local.get $i) (i32.const 5))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $fl)))
    (local.set $i (i32.const 0))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $sum (f64.const 0))
        (local.set $k (i32.const 0))
        (block $kd (loop $kl
          (br_if $kd (i32.ge_u (local.get $k) (local.get $n)))
          (local.set $sum (f64.add (local.get $sum) (f64.mul
            (f64.load (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3))))
            (f64.load (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j)) (i32.const 3)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kl)))
        (f64.store (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))) (local.get $sum))
        (local.set $total (f64.add (local.get $total) (local.get $sum)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il)))
    (i32.store (i32.const 0) (i32.const 8))
    (f64.store (i32.const 4) (local.get $total))
    (i32.const 0)))`;

// FNV-1a over the input after its first u32, that many rounds; output: the hash, 4 bytes.
const HASH = `(module ${ALLOC_1K}
  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $r i32) (local $h i32) (local $p i32) (local $end i32)
    (local.set $r (i32.load (local.get $ptr)))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $h (i32.const 0x811c9dc5))
    (block $rd (loop $rl
      (br_if $rd (i32.eqz (local.get $r)))
      (local.set $p (i32.add (local.get $ptr) (i32.const 4)))
      (block $pd (loop $pl
        (br_if $pd (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $p))) (i32.const 0x01000193)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pl)))
      (local.set $r (i32.sub (local.get $r) (i32.const 1)))
      (br $rl)))
    (i32.store (i32.const 0) (i32.const 4))
    (i32.store (i32.const 4) (local.get $h))
    (i32.const 0)))`;

const u32 = (n: number) => new Uint8Array(Uint32Array.of(n).buffer);
function text(bytes: number): Uint8Array {
  const words = ["tessera", "fuel", "meter", "wasm", "verify", "a", "segment", "loop"];
  let s = "";
  for (let i = 0; s.length < bytes; i++) s += `${words[(i * 7) % words.length]}${i % 11 === 0 ? "\n" : " "}`;
  return new TextEncoder().encode(s.slice(0, bytes));
}
function pseudoRandom(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const cases: { name: string; input: string; bytes: Uint8Array; data: Uint8Array }[] = [
  { name: "reverse", input: "4 MiB", bytes: await loadBuiltinModule("reverse"), data: pseudoRandom(4 << 20, 1) },
  { name: "wordcount", input: "4 MiB of text", bytes: await loadBuiltinModule("wordcount"), data: text(4 << 20) },
  {
    name: "primes",
    input: "n = 1,000,000",
    bytes: await loadBuiltinModule("primes"),
    data: new TextEncoder().encode("1000000"),
  },
  { name: "matmul (WAT here)", input: "n = 320, f64", bytes: await compileWat(MATMUL), data: u32(320) },
  {
    name: "fnv-1a hash loop (WAT here)",
    input: "60,000 bytes × 800 rounds",
    bytes: await compileWat(HASH),
    data: Uint8Array.from([...u32(800), ...pseudoRandom(60_000, 2)]),
  },
];

interface Run {
  ms: number;
  output: Uint8Array;
  fuel: number;
}

/** One job as the worker runs it: fresh memory and instance, (fuel, start,) alloc, copy, run. */
function runOnce(module: object, minPages: number, data: Uint8Array, metered: boolean): Run {
  const memory = new wasm.Memory({ initial: minPages, maximum: MAX_PAGES });
  const ex = new wasm.Instance(module, { env: { memory } }).exports;
  const fuel = ex["tessera:fuel"] as { value: bigint } | undefined;
  if (metered && fuel) {
    fuel.value = FUEL;
    (ex["tessera:start"] as (() => void) | undefined)?.();
  }
  const ptr = (ex.alloc as (n: number) => number)(data.length) >>> 0;
  new Uint8Array(memory.buffer, ptr, data.length).set(data);
  const t = performance.now();
  const result = (ex.run as (p: number, n: number) => number)(ptr, data.length) >>> 0;
  const ms = performance.now() - t;
  const length = new DataView(memory.buffer).getUint32(result, true);
  const output = new Uint8Array(memory.buffer.slice(result + 4, result + 4 + length));
  return { ms, output, fuel: metered && fuel ? Number(FUEL - fuel.value) : 0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

const results = [];
for (const c of cases) {
  const ti = performance.now();
  const instrumented = instrumentFuel(c.bytes);
  const instrumentMs = performance.now() - ti;
  const plainModule = new wasm.Module(c.bytes);
  const meteredModule = new wasm.Module(instrumented);
  const { minPages } = validateJobModule(c.bytes);
  const plain: number[] = [];
  const metered: number[] = [];
  const fuels = new Set<number>();
  let outputsMatch = true;
  let cold: { plain: number; metered: number } | undefined;
  for (let rep = -flags.warmup; rep < flags.reps; rep++) {
    // alternate which goes first, so neither always runs on a warmer cache or after a GC
    const order = rep % 2 === 0 ? [false, true] : [true, false];
    const pair: Record<string, Run> = {};
    for (const m of order) pair[String(m)] = runOnce(m ? meteredModule : plainModule, minPages, c.data, m);
    const p = pair.false as Run;
    const q = pair.true as Run;
    outputsMatch &&= same(p.output, q.output);
    fuels.add(q.fuel);
    cold ??= { plain: p.ms, metered: q.ms }; // each module's first runs: mostly Liftoff code
    if (rep >= 0) {
      plain.push(p.ms);
      metered.push(q.ms);
    }
  }
  const fuel = [...fuels][0] as number;
  const plainMs = median(plain);
  const meteredMs = median(metered);
  const ratios = plain.map((p, i) => (metered[i] as number) / p);
  results.push({
    module: c.name,
    input: c.input,
    plainMs: Number(plainMs.toFixed(3)),
    meteredMs: Number(meteredMs.toFixed(3)),
    ratio: Number((meteredMs / plainMs).toFixed(3)),
    ratioMin: Number(Math.min(...ratios).toFixed(3)),
    ratioMax: Number(Math.max(...ratios).toFixed(3)),
    coldPlainMs: Number((cold?.plain ?? 0).toFixed(3)),
    coldMeteredMs: Number((cold?.metered ?? 0).toFixed(3)),
    coldRatio: Number(((cold?.metered ?? 0) / (cold?.plain ?? 1)).toFixed(3)),
    fuel,
    fuelDeterministic: fuels.size === 1,
    fuelPerUs: Number((fuel / (meteredMs * 1000)).toFixed(1)),
    standardUnits: fuelStandardUnits(fuel),
    outputsMatch,
    bytes: c.bytes.length,
    instrumentedBytes: instrumented.length,
    instrumentMs: Number(instrumentMs.toFixed(3)),
  });
  process.stdout.write(`${JSON.stringify(results.at(-1))}\n`);
}

const geomean = Math.exp(results.reduce((s, r) => s + Math.log(r.ratio), 0) / results.length);
const rows: Row[] = results.map((r) => ({
  metric: `WASM run time, fuel-instrumented / plain: ${r.module}, ${r.input}`,
  tessera: `${r.meteredMs.toFixed(1)} ms (${r.fuelPerUs.toFixed(0)} fuel/µs)`,
  baseline: `${r.plainMs.toFixed(1)} ms plain`,
  versus: `${r.ratio.toFixed(2)}×`,
  bar: "—",
  result: "info",
}));
rows.push({
  metric: "WASM run time, fuel-instrumented / plain: geometric mean over the modules",
  tessera: `${geomean.toFixed(2)}×`,
  baseline: "1×",
  versus: `${geomean.toFixed(2)}×`,
  bar: "—",
  result: "info",
});
const table = [
  "| module | input | plain ms | instrumented ms | ratio (min–max of pairs) | first run: plain / instrumented ms (ratio) | fuel | fuel / µs | SU | bytes → instrumented | instrument ms | outputs equal |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...results.map(
    (r) =>
      `| ${r.module} | ${r.input} | ${r.plainMs} | ${r.meteredMs} | ${r.ratio}× (${r.ratioMin}–${r.ratioMax}) | ${r.coldPlainMs} / ${r.coldMeteredMs} (${r.coldRatio}×) | ${r.fuel.toLocaleString("en-US")} | ${r.fuelPerUs} | ${r.standardUnits} | ${r.bytes} → ${r.instrumentedBytes} | ${r.instrumentMs} | ${r.outputsMatch ? "yes" : "NO"} |`,
  ),
];

const durationS = (performance.now() - t0) / 1000;
const { command, reproduce } = commandLine(BENCH, nonDefaultFlags(FLAGS, flags));
const file = writeResult({
  bench: BENCH,
  title:
    "Fuel metering overhead: time of WASM `run` instrumented for fuel (schedule v1) over the same module plain, and fuel burned per µs, on V8 in one process",
  date: new Date().toISOString(),
  command,
  reproduce,
  machine: machine(),
  durationS,
  rows,
  notes: [
    `Each module runs ${flags.warmup} untimed and ${flags.reps} timed times plain and instrumented, alternating which goes first; every run on a fresh instance and memory, as the provider's worker runs a job (instrumented: fuel set, start, alloc, then run). Times are of \`run\` alone; medians; the ratio's range is over the timed pairs. The first-run column is each module's very first pair (V8 runs it mostly in Liftoff code before tiering hot functions up to TurboFan), what a provider sees on the first jobs of a module it just compiled.`,
    `Fuel counts start, alloc and run; it was the same on every run of a module: ${results.every((r) => r.fuelDeterministic) ? "yes" : "NO"}. Outputs of plain and instrumented runs were byte-identical: ${results.every((r) => r.outputsMatch) ? "yes" : "NO"}.`,
    `Fuel per µs is what a job's default fuel (timeoutMs × ${DEFAULT_FUEL_PER_MS.toLocaleString("en-US")}, i.e. ${(DEFAULT_FUEL_PER_MS / 1000).toLocaleString("en-US")} fuel per µs of time cap) compares with: a module burning more than that here runs out of default fuel before its time cap.`,
    "Times are on a shared machine; the ratio is of times measured in the same run, alternating.",
  ],
  sections: [{ title: "Per module", lines: table }],
  details: { flags, geomean: Number(geomean.toFixed(3)), results },
});
process.stdout.write(`geomean ${geomean.toFixed(3)}\nwrote ${file} (${durationS.toFixed(0)} s)\n`);
process.exit(0);
