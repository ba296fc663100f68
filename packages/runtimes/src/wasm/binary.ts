// Reads the few facts the host needs from a WebAssembly binary that the engine's reflection
// API does not give: the limits of imported memories and tables, whether the module declares
// its own memory, the tables it declares, and the signatures of its exported functions. Call it only on bytes that
// `WebAssembly.compile` accepted; it skips what it does not need and never validates.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

export interface ImportFact {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  /** memory and table imports only */
  limits?: Limits;
}

export interface Limits {
  min: number;
  max?: number;
  shared: boolean;
  memory64: boolean;
}

/** A table the module defines itself (table section entry). */
export interface TableFact {
  element: ValType;
  limits: Limits;
}

export interface ExportFact {
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  /** function exports only, like "i32,i32->i32" */
  signature?: string;
}

export interface ModuleFacts {
  imports: ImportFact[];
  /** memories the module defines itself (memory section entries) */
  ownMemories: number;
  /** tables the module defines itself (table section entries) */
  ownTables: TableFact[];
  exports: ExportFact[];
}

const KINDS = ["function", "table", "memory", "global", "tag"] as const;
const VALTYPES: Record<number, ValType> = {
  127: "i32",
  126: "i64",
  125: "f32",
  124: "f64",
  123: "v128",
  112: "funcref",
  111: "externref",
};

/** Thrown for encodings outside what this reader knows (proposals the engine may enable). */
export class UnsupportedWasm extends Error {}

/** A cursor over wasm bytes with the binary format's primitive reads; fuel.ts decodes code with it too. */
export class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    const b = this.bytes[this.pos++];
    if (b === undefined) throw new UnsupportedWasm("unexpected end of wasm binary");
    return b;
  }
  /** unsigned LEB128; numbers beyond 2^53 are not meaningful here */
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
  }
  /** skips a LEB128 number of any width (signed constants too); longer than 10 bytes is malformed */
  skipLeb(): void {
    for (let n = 0; n < 10; n++) if ((this.byte() & 0x80) === 0) return;
    throw new UnsupportedWasm("LEB128 number longer than 10 bytes");
  }
  /** signed LEB128 up to 33 bits (block types); numbers beyond 2^53 are not meaningful here */
  sleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - scale : result;
    }
  }
  skip(n: number): void {
    if (this.pos + n > this.bytes.length) throw new UnsupportedWasm("unexpected end of wasm binary");
    this.pos += n;
  }
  name(): string {
    const len = this.uleb();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  /** a table type: element type, then limits */
  tableType(): TableFact {
    // 0x40 0x00 opens a table with an initialiser (function-references proposal).
    if (this.bytes[this.pos] === 0x40) throw new UnsupportedWasm("tables with an initialiser are not supported");
    const element = this.valtype();
    return { element, limits: this.limits() };
  }
  valtype(): ValType {
    const b = this.byte();
    const t = VALTYPES[b];
    if (!t) throw new UnsupportedWasm(`unsupported value type 0x${b.toString(16)}`);
    return t;
  }
  limits(): Limits {
    const flags = this.byte();
    const min = this.uleb();
    const max = flags & 1 ? this.uleb() : undefined;
    return { min, ...(max === undefined ? {} : { max }), shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
  }
}

function kindOf(b: number): ImportFact["kind"] {
  const kind = KINDS[b];
  if (!kind) throw new UnsupportedWasm(`unknown external kind ${b}`);
  return kind;
}

export function readImport(r: Reader, importedFuncTypes: number[]): ImportFact {
  const module = r.name();
  const name = r.name();
  const kind = kindOf(r.byte());
  switch (kind) {
    case "function":
      importedFuncTypes.push(r.uleb());
      return { module, name, kind };
    case "table":
      return { module, name, kind, limits: r.tableType().limits };
    case "memory":
      return { module, name, kind, limits: r.limits() };
    case "global":
      r.valtype();
      r.byte();
      return { module, name, kind };
    case "tag":
      r.byte();
      r.uleb();
      return { module, name, kind };
  }
}

export function readModuleFacts(bytes: Uint8Array): ModuleFacts {
  const r = new Reader(bytes);
  r.pos = 8; // magic + version
  const types: string[] = [];
  const funcTypes: number[] = []; // function index space: imported functions first
  const imports: ImportFact[] = [];
  const rawExports: { name: string; kind: ExportFact["kind"]; index: number }[] = [];
  let ownMemories = 0;
  const ownTables: TableFact[] = [];

  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const end = r.pos + size;
    if (id === 1) {
      for (let n = r.uleb(); n > 0; n--) {
        const form = r.byte();
        if (form !== 0x60) throw new UnsupportedWasm(`unsupported type form 0x${form.toString(16)}`);
        const params = Array.from({ length: r.uleb() }, () => r.valtype());
        const results = Array.from({ length: r.uleb() }, () => r.valtype());
        types.push(`${params.join(",")}->${results.join(",")}`);
      }
    } else if (id === 2) {
      for (let n = r.uleb(); n > 0; n--) imports.push(readImport(r, funcTypes));
    } else if (id === 3) {
      for (let n = r.uleb(); n > 0; n--) funcTypes.push(r.uleb());
    } else if (id === 4) {
      for (let n = r.uleb(); n > 0; n--) ownTables.push(r.tableType());
    } else if (id === 5) {
      ownMemories = r.uleb();
    } else if (id === 7) {
      for (let n = r.uleb(); n > 0; n--) {
        const name = r.name();
        const kind = kindOf(r.byte());
        rawExports.push({ name, kind, index: r.uleb() });
      }
    }
    r.pos = end;
  }

  const exports = rawExports.map(({ name, kind, index }): ExportFact => {
    if (kind !== "function") return { name, kind };
    const typeIndex = funcTypes[index];
    const signature = typeIndex === undefined ? undefined : types[typeIndex];
    return signature === undefined ? { name, kind } : { name, kind, signature };
  });
  return { imports, ownMemories, ownTables, exports };
}
