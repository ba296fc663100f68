// Runs WASM jobs, one at a time, inside a worker thread, so that the host can stop a runaway
// job from outside by terminating the thread. Plain JavaScript so that it loads without a
// TypeScript loader in the worker (tsx, vitest and plain node all run it as is).
//
// Message in:  { id, module: WebAssembly.Module, initial, maximum, maxOutputBytes, fuel, input: ArrayBuffer }
// Message out: { id, ok: true, output: ArrayBuffer, fuel, memoryBytes }  (output transferred)
//          or  { id, ok: false, kind: "fault" | "out_of_fuel" | "host", message, memoryBytes? }
//          or  { id, ok: false, kind: "trap", message, fuel, memoryBytes? }
// memoryBytes is the job's linear memory at its end: the pool ends a worker left holding a large one.
// The module is instrumented for fuel (fuel.ts): `fuel` in is the job's limit, which is set in the
// module's fuel global before any guest code runs (its start function included); `fuel` out is what
// the job burned. Running out (remaining below zero, after a trap or after `run`) is "out_of_fuel":
// the same on every node, so the runtime makes a billed result of it, not a fault. So is a "trap"
// once the fuel is set (a wasm trap, an uncaught wasm exception, a broken ABI, too much output),
// with the fuel burned until then: fuel is charged ahead of the code it pays for, so that count
// does not depend on where in a segment the trap fell. A RangeError is not the job's own doing
// alike everywhere (stack overflow depends on the engine's stack), so it stays a "fault".
// "fault" means the job failed at its own fault where no fuel count says how far it got (at
// instantiation, or at the engine's stack limit); "host" means this node could not run it (e.g. no
// address space for the memory).
import { parentPort } from "node:worker_threads";

const port = parentPort;
if (!port) throw new Error("worker.mjs must run in a worker thread");

const PAGE = 65_536;
// Creating a WebAssembly.Memory (an address-space reservation plus GC bookkeeping) costs ten
// times more than running a tiny job. A memory that did not grow is, once zeroed, exactly
// what a fresh one would be (same size, same maximum, all zeros), so small ones are kept for
// the next job with the same limits. Larger ones are left to the GC: zeroing them costs more.
const REUSE_MAX_BYTES = 1024 * 1024;
const REUSE_MAX_KINDS = 8;
const spare = new Map(); // "initial:maximum" -> zeroed WebAssembly.Memory

port.on("message", (task) => {
  const memory = takeMemory(task.initial, task.maximum);
  const reply = memory instanceof WebAssembly.Memory
    ? { ...runJob(task, memory), memoryBytes: memory.buffer.byteLength }
    : { id: task.id, ok: false, kind: "host", message: `could not allocate wasm memory: ${messageOf(memory)}` };
  port.postMessage(reply, reply.ok ? [reply.output] : []);
  // After replying, so the zeroing is off the job's critical path.
  if (memory instanceof WebAssembly.Memory) keepMemory(task.initial, task.maximum, memory);
});

function takeMemory(initial, maximum) {
  const key = `${initial}:${maximum}`;
  const memory = spare.get(key);
  if (memory) {
    spare.delete(key);
    return memory;
  }
  try {
    return new WebAssembly.Memory({ initial, maximum });
  } catch (err) {
    return err;
  }
}

function keepMemory(initial, maximum, memory) {
  const bytes = memory.buffer.byteLength;
  if (bytes !== initial * PAGE || bytes > REUSE_MAX_BYTES) return;
  const key = `${initial}:${maximum}`;
  if (!spare.has(key) && spare.size >= REUSE_MAX_KINDS) spare.delete(spare.keys().next().value);
  new Uint8Array(memory.buffer).fill(0);
  spare.set(key, memory);
}

function runJob({ id, module, maximum, maxOutputBytes, fuel, input }, memory) {
  let fuelGlobal;
  try {
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    fuelGlobal = exports["tessera:fuel"];
    fuelGlobal.value = BigInt(fuel);
    exports["tessera:start"]?.();
    const bytes = new Uint8Array(input);
    const ptr = exports.alloc(bytes.length) >>> 0;
    if (ptr + bytes.length > memory.buffer.byteLength) {
      return abiFault(id, fuel, fuelGlobal, `alloc(${bytes.length}) returned ${ptr}, past the end of memory (${memory.buffer.byteLength} bytes)`);
    }
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);

    const result = exports.run(ptr, bytes.length) >>> 0;
    const remaining = fuelGlobal.value;
    if (remaining < 0n) return outOfFuel(id, fuel);

    // Read memory.buffer again: run may have grown memory, which replaces the buffer.
    const buffer = memory.buffer;
    if (result + 4 > buffer.byteLength) {
      return abiFault(id, fuel, fuelGlobal, `run returned ${result}, past the end of memory (${buffer.byteLength} bytes)`);
    }
    const length = new DataView(buffer).getUint32(result, true);
    // Checked before copying: the job's own fault, and the same on every node.
    if (length > maxOutputBytes) {
      return trap(id, fuel, fuelGlobal, `wasm job returned ${length} bytes of output; the most allowed is ${maxOutputBytes}`);
    }
    if (result + 4 + length > buffer.byteLength) {
      return abiFault(id, fuel, fuelGlobal, `run returned a ${length}-byte result at ${result}, past the end of memory (${buffer.byteLength} bytes)`);
    }
    return { id, ok: true, output: buffer.slice(result + 4, result + 4 + length), fuel: Number(BigInt(fuel) - remaining) };
  } catch (err) {
    // A trap with the fuel spent is the metering's own `unreachable` (or came after the job had
    // overspent): either way the job ran out of fuel, the same on every node.
    if (fuelGlobal !== undefined && fuelGlobal.value < 0n) return outOfFuel(id, fuel);
    // The cap note saves a reader from guessing why a module trapped after a failed grow.
    const atCap = memory.buffer.byteLength >= maximum * PAGE ? ` (memory at its cap of ${maximum} pages)` : "";
    const label = err instanceof WebAssembly.RuntimeError ? "wasm trap" : "wasm job failed";
    const message = `${label}: ${messageOf(err)}${atCap}`;
    // before the fuel was set (instantiation) nothing was metered; a RangeError is the host's limit
    if (fuelGlobal === undefined || err instanceof RangeError) return { id, ok: false, kind: "fault", message };
    return trap(id, fuel, fuelGlobal, message);
  }
}

/** The job stopped at its own fault after burning limit − remaining fuel, the same on every node. */
function trap(id, fuel, fuelGlobal, message) {
  return { id, ok: false, kind: "trap", message, fuel: Number(BigInt(fuel) - fuelGlobal.value) };
}

function outOfFuel(id, fuel) {
  return { id, ok: false, kind: "out_of_fuel", message: `wasm job ran out of fuel (limit ${fuel}; a job may set limits.maxFuel)` };
}

function abiFault(id, fuel, fuelGlobal, message) {
  return trap(id, fuel, fuelGlobal, `wasm module broke the ABI: ${message}`);
}

function messageOf(err) {
  // A wasm exception (a `throw` of the module's own tag) is no Error: String() says only "[object WebAssembly.Exception]".
  if (typeof WebAssembly.Exception === "function" && err instanceof WebAssembly.Exception) {
    return "the module threw a WebAssembly exception (throw of one of its tags) that it never caught";
  }
  return err instanceof Error ? err.message : String(err);
}
