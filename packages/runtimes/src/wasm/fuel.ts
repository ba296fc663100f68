// Deterministic fuel metering: rewrites a job module so that it counts its own instructions in a
// global, so a WASM job's units are an exact count that a verifier's re-run reproduces exactly.
//
// ## Fuel schedule v1
//
// - Every instruction of a function body costs 1 fuel: one opcode with its immediates, counted as
//   written in the original module (block, loop, if, else, end and the other structural ones
//   included; the metering code added here costs nothing).
// - A body is cut into straight-line segments. A segment starts at the function's entry and
//   right after each block, loop, if, else, end, try, catch, catch_all, delegate, br, br_if,
//   br_table, return, return_call, return_call_indirect, throw, rethrow and unreachable; the
//   instruction that ends a segment belongs to it. On entering a segment, all its instructions
//   are charged at once (so a trap or a call that never returns in the middle has paid for the
//   rest of the segment: the job fails then anyway).
// - On entering a function and a loop header (the segment right after `loop`, where every
//   iteration starts) the fuel is checked after the charge: below zero traps (`unreachable`).
//   Other charges do not check; the host checks after the job, so no charge goes unbilled.
// - Instructions with a run-time size pay on top, before they run, and check at once: memory.fill,
//   memory.copy and memory.init 1 fuel per whole 16 bytes (⌊n / 16⌋), memory.grow 4,096 per page
//   asked for (a 64 KiB page at 16 bytes a fuel; charged whether or not the grow succeeds),
//   table.fill, table.copy, table.init and table.grow 1 per entry. The size is read through an
//   i32 scratch local appended after the function's locals (only in functions that need it).
// - The fuel is a mutable i64 global appended after all the module's globals (no index shifts),
//   initialised to 0 and exported as `tessera:fuel`. The host sets it to the job's limit, runs the
//   job, and bills limit − remaining; remaining below zero means the job ran out of fuel.
// - A start function is not started at instantiation: the start section is removed and the
//   function exported as `tessera:start`, for the host to call once the fuel is set.
// - A module that already exports either name is refused, as is an instruction outside those
//   instructions.ts knows, or a module that names a local or global it does not have.
//
// The pass is a pure function of the bytes: provider and verifier instrument independently and
// must get the same module, so equal input gives equal output, and the schedule is versioned.
import { JobFault } from "../types.js";
import { Reader, readImport, UnsupportedWasm } from "./binary.js";
import { decodeInstruction, type SizeCharge, UnknownInstruction } from "./instructions.js";

/** The version of the rules above; a change to what anything costs is a new version. */
export const FUEL_SCHEDULE = 1;
export const FUEL_EXPORT = "tessera:fuel";
export const START_EXPORT = "tessera:start";
/** memory.fill / copy / init: 1 fuel per this many bytes */
export const FUEL_BYTES_PER_UNIT = 16;
/** memory.grow: fuel per 64 KiB page asked for */
export const FUEL_PER_PAGE = 65_536 / FUEL_BYTES_PER_UNIT;

interface Section {
  id: number;
  payload: Uint8Array;
}

// The order non-custom sections must come in (tag, 13, sits between memory and global; data count, 12, before code).
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** Instruments a module's binary for fuel (schedule v1 above); throws a JobFault for what it cannot meter. */
export function instrumentFuel(bytes: Uint8Array): Uint8Array {
  try {
    return instrument(bytes);
  } catch (err) {
    if (err instanceof UnknownInstruction) {
      throw new JobFault(`wasm module uses an instruction fuel metering does not know: ${err.opcode}`);
    }
    if (err instanceof UnsupportedWasm) throw new JobFault(`wasm module cannot be metered: ${err.message}`);
    throw err;
  }
}

function instrument(bytes: Uint8Array): Uint8Array {
  const sections = readSections(bytes);
  const params: number[] = []; // per type index
  const funcTypes: number[] = []; // per function index, imports first
  let globals = 0;
  let exportNames: string[] = [];
  let start: number | undefined;
  let importedFuncs = 0;

  for (const { id, payload } of sections) {
    const r = new Reader(payload);
    if (id === 1) {
      for (let n = r.uleb(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new UnsupportedWasm("a type that is not a function type");
        const count = r.uleb();
        for (let i = 0; i < count; i++) r.valtype();
        params.push(count);
        for (let i = r.uleb(); i > 0; i--) r.valtype();
      }
    } else if (id === 2) {
      for (let n = r.uleb(); n > 0; n--) if (readImport(r, funcTypes).kind === "global") globals++;
      importedFuncs = funcTypes.length;
    } else if (id === 3) {
      for (let n = r.uleb(); n > 0; n--) funcTypes.push(r.uleb());
    } else if (id === 6) {
      globals += r.uleb();
    } else if (id === 7) {
      exportNames = readExportNames(r);
    } else if (id === 8) {
      start = r.uleb();
    }
  }
  for (const reserved of [FUEL_EXPORT, START_EXPORT]) {
    if (exportNames.includes(reserved)) {
      throw new JobFault(`wasm module exports ${reserved}, a name the host reserves for fuel metering`);
    }
  }

  const fuel = globals; // the appended global's index
  const out: Section[] = [];
  for (const section of sections) {
    if (section.id === 8) continue;
    if (section.id === 6) out.push({ id: 6, payload: appendGlobal(section.payload) });
    else if (section.id === 7) out.push({ id: 7, payload: appendExports(section.payload, fuel, start) });
    else if (section.id === 10) {
      const paramsOf = (i: number) => params[funcTypes[importedFuncs + i] ?? -1] ?? 0;
      out.push({ id: 10, payload: instrumentCode(section.payload, paramsOf, fuel) });
    } else out.push(section);
  }
  if (!out.some((s) => s.id === 6)) insertInOrder(out, { id: 6, payload: appendGlobal(Uint8Array.of(0)) });
  if (!out.some((s) => s.id === 7))
    insertInOrder(out, { id: 7, payload: appendExports(Uint8Array.of(0), fuel, start) });
  return encodeModule(bytes.subarray(0, 8), out);
}

function readSections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || header.some((b, i) => bytes[i] !== b)) throw new UnsupportedWasm("not a wasm 1.0 binary");
  r.pos = 8;
  const sections: Section[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const from = r.pos;
    r.skip(size);
    sections.push({ id, payload: bytes.subarray(from, from + size) });
  }
  return sections;
}

function readExportNames(r: Reader): string[] {
  const names: string[] = [];
  for (let n = r.uleb(); n > 0; n--) {
    names.push(r.name());
    r.byte();
    r.uleb();
  }
  return names;
}

function insertInOrder(sections: Section[], section: Section): void {
  const rank = ORDER.indexOf(section.id);
  const at = sections.findIndex((s) => s.id !== 0 && ORDER.indexOf(s.id) > rank);
  sections.splice(at < 0 ? sections.length : at, 0, section);
}

/** A vector's payload with its count raised by `extra` and `tail` appended. */
function extendVector(payload: Uint8Array, extra: number, tail: number[]): Uint8Array {
  const r = new Reader(payload);
  const count = r.uleb();
  return concat([uleb(count + extra), payload.subarray(r.pos), Uint8Array.from(tail)]);
}

function appendGlobal(payload: Uint8Array): Uint8Array {
  return extendVector(payload, 1, [0x7e, 0x01, 0x42, 0x00, 0x0b]); // (mut i64) (i64.const 0)
}

function appendExports(payload: Uint8Array, fuel: number, start: number | undefined): Uint8Array {
  const tail = [...exportEntry(FUEL_EXPORT, 0x03, fuel)];
  if (start !== undefined) tail.push(...exportEntry(START_EXPORT, 0x00, start));
  return extendVector(payload, start === undefined ? 1 : 2, tail);
}

function exportEntry(name: string, kind: number, index: number): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...uleb(utf8.length), ...utf8, kind, ...uleb(index)];
}

function instrumentCode(payload: Uint8Array, paramsOf: (i: number) => number, fuel: number): Uint8Array {
  const r = new Reader(payload);
  const count = r.uleb();
  const parts: Uint8Array[] = [uleb(count)];
  for (let i = 0; i < count; i++) {
    const size = r.uleb();
    const from = r.pos;
    r.skip(size);
    const body = instrumentBody(payload.subarray(from, from + size), paramsOf(i), fuel);
    parts.push(uleb(body.length), body);
  }
  return concat(parts);
}

/** One function body (locals, then code), metered per schedule v1. */
function instrumentBody(body: Uint8Array, params: number, fuel: number): Uint8Array {
  const r = new Reader(body);
  const groups = r.uleb();
  const groupsFrom = r.pos;
  let locals = params;
  for (let g = 0; g < groups; g++) {
    locals += r.uleb();
    r.valtype();
  }
  const declared = body.subarray(groupsFrom, r.pos); // the groups, without their count
  const scratch = locals; // index of the appended i32, if the body needs one
  const code: Uint8Array[] = []; // the new locals header goes in front once known
  let segment: Uint8Array[] = [];
  let instructions = 0;
  let check = true; // function entry
  let rawFrom = r.pos;
  let usesScratch = false;

  while (r.pos < body.length) {
    const at = r.pos;
    const d = decodeInstruction(r);
    instructions++;
    if (d.local !== undefined && d.local >= locals) {
      throw new JobFault(`wasm module uses local ${d.local} in a function with ${locals} locals`);
    }
    if (d.global !== undefined && d.global >= fuel) {
      throw new JobFault(`wasm module uses global ${d.global} but has ${fuel} globals`);
    }
    if (d.size !== undefined) {
      segment.push(body.subarray(rawFrom, at), sizeCharge(d.size, scratch, fuel));
      rawFrom = at;
      usesScratch = true;
    }
    if (d.endsSegment) {
      segment.push(body.subarray(rawFrom, r.pos));
      code.push(charge(instructions, check, fuel));
      for (const part of segment) code.push(part); // not push(...segment): a segment may have 10⁵ parts
      segment = [];
      instructions = 0;
      check = d.loop;
      rawFrom = r.pos;
    }
  }
  if (instructions > 0) {
    // only bodies that do not end with `end` get here, and those do not validate; kept consistent anyway
    segment.push(body.subarray(rawFrom));
    code.push(charge(instructions, check, fuel));
    for (const part of segment) code.push(part);
  }
  const header = usesScratch ? [uleb(groups + 1), declared, Uint8Array.of(0x01, 0x7f)] : [uleb(groups), declared];
  code.unshift(...header);
  return concat(code);
}

// fuel -= n; with check: if (fuel < 0) unreachable
function charge(n: number, check: boolean, fuel: number): Uint8Array {
  const g = uleb(fuel);
  const bytes = [0x23, ...g, 0x42, ...sleb(n), 0x7d, 0x24, ...g];
  if (check) bytes.push(...exhaustionCheck(g));
  return Uint8Array.from(bytes);
}

function exhaustionCheck(g: Uint8Array): number[] {
  return [0x23, ...g, 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b];
}

// the size (i32 on top of the stack) stays there: local.tee; fuel -= scaled size; check
function sizeCharge(kind: SizeCharge, scratch: number, fuel: number): Uint8Array {
  const g = uleb(fuel);
  const s = uleb(scratch);
  const scale = kind === "bytes" ? [0x42, 0x04, 0x88] : kind === "pages" ? [0x42, 0x0c, 0x86] : []; // >> 4, << 12
  return Uint8Array.from([
    0x22,
    ...s,
    0x23,
    ...g,
    0x20,
    ...s,
    0xad, // i64.extend_i32_u
    ...scale,
    0x7d,
    0x24,
    ...g,
    ...exhaustionCheck(g),
  ]);
}

function encodeModule(header: Uint8Array, sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [header];
  for (const { id, payload } of sections) parts.push(Uint8Array.of(id), uleb(payload.length), payload);
  return concat(parts);
}

function uleb(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    const low = v % 128;
    v = Math.floor(v / 128);
    out.push(v > 0 ? low | 0x80 : low);
  } while (v > 0);
  return Uint8Array.from(out);
}

function sleb(value: number): number[] {
  // charges are positive and far below 2^31
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0)) {
      out.push(low);
      return out;
    }
    out.push(low | 0x80);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
