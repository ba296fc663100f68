import { describe, expect, it } from "vitest";
import { JobFault } from "../types.js";
import { MAX_TABLE_ENTRIES, memoryLimitsFor, validateJobModule } from "./abi.js";
import { compileWat, loadBuiltinModule } from "./modules.js";

const EXPORTS = `
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i32) (i32.const 0))`;

async function check(wat: string) {
  return validateJobModule(await compileWat(`(module ${wat})`, "test.wat", { threads: true }));
}

describe("validateJobModule", () => {
  it("accepts the built-in modules and reports their memory minimum", async () => {
    expect(validateJobModule(await loadBuiltinModule("reverse"))).toEqual({ minPages: 1 });
  });

  it("reports a declared memory maximum", async () => {
    const info = await check(`(import "env" "memory" (memory 2 8)) ${EXPORTS}`);
    expect(info).toEqual({ minPages: 2, maxPages: 8 });
  });

  it("rejects a module with an import besides env.memory, naming it", async () => {
    const wat = `(import "env" "memory" (memory 1)) (import "wasi" "clock" (func (result i64))) ${EXPORTS}`;
    await expect(check(wat)).rejects.toThrow(JobFault);
    await expect(check(wat)).rejects.toThrow(/imports wasi\.clock \(function\)/);
  });

  it("rejects env.memory imported as something other than a memory", async () => {
    await expect(check(`(import "env" "memory" (global i32)) ${EXPORTS}`)).rejects.toThrow(/env\.memory \(global\)/);
  });

  it("rejects a module that declares its own memory", async () => {
    await expect(check(`(memory 1) ${EXPORTS}`)).rejects.toThrow(/declares its own memory/);
  });

  it("rejects a module with no memory at all", async () => {
    await expect(check(EXPORTS)).rejects.toThrow(/does not import env\.memory/);
  });

  it("rejects a shared memory", async () => {
    await expect(check(`(import "env" "memory" (memory 1 2 shared)) ${EXPORTS}`)).rejects.toThrow(/shared memory/);
  });

  it("accepts tables with maxima that sum to the bound", async () => {
    const half = MAX_TABLE_ENTRIES / 2;
    const wat = `(import "env" "memory" (memory 1)) (table 1 ${half} funcref) (table 0 ${half} externref) ${EXPORTS}`;
    expect(await check(wat)).toEqual({ minPages: 1 });
  });

  it("rejects a table without a maximum, which table.grow could grow until the host aborts", async () => {
    const wat = `(import "env" "memory" (memory 1)) (table 0 funcref) ${EXPORTS}`;
    await expect(check(wat)).rejects.toThrow(JobFault);
    await expect(check(wat)).rejects.toThrow(/table with no maximum/);
  });

  it("rejects a large table even when bounded (declaring it alone can exhaust the worker's heap)", async () => {
    const wat = `(import "env" "memory" (memory 1)) (table 10000000 10000000 funcref) ${EXPORTS}`;
    await expect(check(wat)).rejects.toThrow(/may hold 10000000 entries/);
  });

  it("rejects tables whose maxima together pass the bound", async () => {
    const half = MAX_TABLE_ENTRIES / 2;
    const wat = `(import "env" "memory" (memory 1)) (table 0 ${half} funcref) (table 0 ${half + 1} externref) ${EXPORTS}`;
    await expect(check(wat)).rejects.toThrow(`may hold ${MAX_TABLE_ENTRIES + 1} entries`);
  });

  it("rejects an imported table as an import besides env.memory", async () => {
    const wat = `(import "env" "memory" (memory 1)) (import "env" "table" (table 1 1 funcref)) ${EXPORTS}`;
    await expect(check(wat)).rejects.toThrow(/imports env\.table \(table\)/);
  });

  it("rejects a module missing run", async () => {
    const wat = `(import "env" "memory" (memory 1)) (func (export "alloc") (param i32) (result i32) (i32.const 0))`;
    await expect(check(wat)).rejects.toThrow(/does not export run/);
  });

  it("rejects a module missing alloc", async () => {
    const wat = `(import "env" "memory" (memory 1)) (func (export "run") (param i32 i32) (result i32) (i32.const 0))`;
    await expect(check(wat)).rejects.toThrow(/does not export alloc/);
  });

  it("rejects an export with the wrong signature", async () => {
    const wat = `(import "env" "memory" (memory 1))
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "run") (param i64 i32) (result i32) (i32.const 0))`;
    await expect(check(wat)).rejects.toThrow(/exports run as \(i64,i32->i32\)/);
  });

  it("rejects a required export that is not a function", async () => {
    const wat = `(import "env" "memory" (memory 1))
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (global (export "run") i32 (i32.const 0))`;
    await expect(check(wat)).rejects.toThrow(/exports run as a global/);
  });
});

describe("memoryLimitsFor", () => {
  it("caps the maximum at the job's memory limit in 64 KiB pages", () => {
    expect(memoryLimitsFor({ minPages: 1 }, 64)).toEqual({ initial: 1, maximum: 1024 });
  });

  it("keeps a module's own lower maximum", () => {
    expect(memoryLimitsFor({ minPages: 1, maxPages: 4 }, 64)).toEqual({ initial: 1, maximum: 4 });
  });

  it("refuses a module whose minimum exceeds the cap", () => {
    expect(() => memoryLimitsFor({ minPages: 32 }, 1)).toThrow(JobFault);
  });
});
