// Decodes one instruction of a function body: its immediates (to step over it) and what fuel
// metering needs to know of it. Written out by hand, like the fuel schedule it serves, so that
// what counts as one instruction never drifts with a library; see fuel.ts for the rules.
//
// Known: MVP, sign extension, saturating truncation, bulk memory and table ops, reference
// types, multi-value block types, tail calls, exception handling as Node 20 ships it (try,
// catch, catch_all, throw, rethrow, delegate), fixed-width SIMD and atomics. Anything else
// (function references, GC, relaxed SIMD, try_table, ...) is an UnknownInstruction.
import type { Reader } from "./binary.js";

/** How an instruction with a run-time size is charged on top of its 1 fuel (see fuel.ts). */
export type SizeCharge = "bytes" | "pages" | "entries";

export interface Decoded {
  /** control may leave the straight line after this instruction (or enter right after it) */
  endsSegment: boolean;
  /** it opens a loop: the segment after it is the loop's header, where every iteration starts */
  loop: boolean;
  /** it has a run-time size (the i32 on top of the stack) that costs extra fuel */
  size: SizeCharge | undefined;
  /** the local it reads or writes (local.get/set/tee) */
  local: number | undefined;
  /** the global it reads or writes (global.get/set) */
  global: number | undefined;
}

/** An opcode this decoder does not know; `opcode` as written in the fault, like "0xfb" or "0xfd 0x100". */
export class UnknownInstruction extends Error {
  constructor(readonly opcode: string) {
    super(`unknown instruction ${opcode}`);
  }
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;

// Single-byte value types and the empty type: a block type in one byte (anything else is a type index).
const SHORT_BLOCK_TYPES = new Set([0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

function blockType(r: Reader): void {
  const first = r.bytes[r.pos];
  if (first !== undefined && SHORT_BLOCK_TYPES.has(first)) {
    r.pos++;
    return;
  }
  const index = r.sleb();
  if (index < 0) throw new UnknownInstruction(`block type ${hex(first ?? 0)}`);
}

function memarg(r: Reader): void {
  const align = r.uleb();
  if (align & 0x40) r.uleb(); // multi-memory: a memory index follows
  r.uleb(); // offset
}

/** Reads one instruction at r.pos, leaving r.pos after it. */
export function decodeInstruction(r: Reader): Decoded {
  const d: Decoded = { endsSegment: false, loop: false, size: undefined, local: undefined, global: undefined };
  const op = r.byte();
  if (op >= 0x45 && op <= 0xc4) return d; // numeric ops, sign extension: no immediates
  if (op >= 0x28 && op <= 0x3e) {
    memarg(r);
    return d;
  }
  switch (op) {
    case 0x01: // nop
    case 0x1a: // drop
    case 0x1b: // select
    case 0xd1: // ref.is_null
      return d;
    case 0x00: // unreachable
    case 0x05: // else
    case 0x0b: // end
    case 0x0f: // return
    case 0x19: // catch_all
      d.endsSegment = true;
      return d;
    case 0x02: // block
    case 0x04: // if
    case 0x06: // try
      blockType(r);
      d.endsSegment = true;
      return d;
    case 0x03: // loop
      blockType(r);
      d.endsSegment = true;
      d.loop = true;
      return d;
    case 0x07: // catch tag
    case 0x08: // throw tag
    case 0x09: // rethrow label
    case 0x0c: // br label
    case 0x0d: // br_if label
    case 0x12: // return_call func
    case 0x18: // delegate label
      r.uleb();
      d.endsSegment = true;
      return d;
    case 0x0e: // br_table
      for (let n = r.uleb(); n > 0; n--) r.uleb();
      r.uleb();
      d.endsSegment = true;
      return d;
    case 0x13: // return_call_indirect type table
      r.uleb();
      r.uleb();
      d.endsSegment = true;
      return d;
    case 0x10: // call func
    case 0x25: // table.get
    case 0x26: // table.set
    case 0x3f: // memory.size
    case 0xd2: // ref.func
      r.uleb();
      return d;
    case 0x11: // call_indirect type table
      r.uleb();
      r.uleb();
      return d;
    case 0x1c: // select t*
      for (let n = r.uleb(); n > 0; n--) r.valtype();
      return d;
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
      d.local = r.uleb();
      return d;
    case 0x23: // global.get
    case 0x24: // global.set
      d.global = r.uleb();
      return d;
    case 0x40: // memory.grow
      r.uleb();
      d.size = "pages";
      return d;
    case 0x41: // i32.const
    case 0x42: // i64.const
      r.skipLeb();
      return d;
    case 0x43: // f32.const
      r.skip(4);
      return d;
    case 0x44: // f64.const
      r.skip(8);
      return d;
    case 0xd0: // ref.null heaptype
      r.valtype();
      return d;
    case 0xfc:
      return decodeMisc(r, d);
    case 0xfd:
      return decodeSimd(r, d);
    case 0xfe:
      return decodeAtomic(r, d);
    default:
      throw new UnknownInstruction(hex(op));
  }
}

/** 0xFC: saturating truncation, bulk memory and table ops. */
function decodeMisc(r: Reader, d: Decoded): Decoded {
  const sub = r.uleb();
  if (sub <= 7) return d; // trunc_sat
  switch (sub) {
    case 8: // memory.init data mem
      r.uleb();
      r.uleb();
      d.size = "bytes";
      return d;
    case 9: // data.drop
    case 13: // elem.drop
    case 16: // table.size
      r.uleb();
      return d;
    case 10: // memory.copy mem mem
      r.uleb();
      r.uleb();
      d.size = "bytes";
      return d;
    case 11: // memory.fill mem
      r.uleb();
      d.size = "bytes";
      return d;
    case 12: // table.init elem table
    case 14: // table.copy table table
      r.uleb();
      r.uleb();
      d.size = "entries";
      return d;
    case 15: // table.grow
    case 17: // table.fill
      r.uleb();
      d.size = "entries";
      return d;
    default:
      throw new UnknownInstruction(`0xfc ${hex(sub)}`);
  }
}

/** 0xFD: fixed-width SIMD (relaxed SIMD, 0x100 and up, is not known). */
function decodeSimd(r: Reader, d: Decoded): Decoded {
  const sub = r.uleb();
  if (sub <= 0x0b || sub === 0x5c || sub === 0x5d)
    memarg(r); // loads, store, load_zero
  else if (sub === 0x0c || sub === 0x0d)
    r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 0x15 && sub <= 0x22)
    r.skip(1); // extract_lane / replace_lane
  else if (sub >= 0x54 && sub <= 0x5b) {
    memarg(r); // load*_lane / store*_lane
    r.skip(1);
  } else if (sub > 0xff) throw new UnknownInstruction(`0xfd ${hex(sub)}`);
  // the rest, 0x0e-0x14, 0x23-0x53, 0x5e-0xff, has no immediates (an unassigned one fails validation)
  return d;
}

/** 0xFE: atomics (valid on unshared memory too). */
function decodeAtomic(r: Reader, d: Decoded): Decoded {
  const sub = r.uleb();
  if (sub === 0x03)
    r.skip(1); // atomic.fence 0x00
  else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) memarg(r);
  else throw new UnknownInstruction(`0xfe ${hex(sub)}`);
  return d;
}
