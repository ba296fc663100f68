// WASM verification re-executes the module: honest results pass, altered outputs and padded
// metering fail.
import { sha256Hex, type WasmJobSpec } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Runtime } from "../types.js";
import { loadBuiltinModule } from "../wasm/modules.js";
import { createWasmRuntime } from "../wasm/runtime.js";

let rt: Runtime<WasmJobSpec>;
let reverse: string;
beforeAll(async () => {
  const bytes = await loadBuiltinModule("reverse");
  reverse = sha256Hex(bytes);
  const fetch = async () => bytes;
  rt = createWasmRuntime({ fetchModule: fetch, fetchBlob: fetch, throughput: 1000, poolSize: 1 });
});
afterAll(() => rt?.close());

const ctx = () => ({ jobId: "j", attempt: 1, signal: new AbortController().signal });
const spec = (): WasmJobSpec => ({
  runtime: "wasm",
  module: reverse,
  input: { data: Buffer.from("hello tessera").toString("base64") },
  limits: { timeoutMs: 10_000, maxMemoryMb: 64 },
});

describe("wasm verification", () => {
  test("passes an honest result and fails an altered output or padded metering", async () => {
    const honest = await rt.execute(spec(), ctx());
    const verify = rt.verify?.bind(rt);
    if (!verify) throw new Error("the wasm runtime has no verify");
    const ok = await verify(spec(), honest, ctx());
    expect(ok).toMatchObject({ pass: true, reasons: [] });
    expect(ok.metrics.outputMatches).toBe(1);
    const altered = { ...honest, output: { data: Buffer.from("aresset olleh!").toString("base64") } };
    const bad = await verify(spec(), altered, ctx());
    expect(bad.pass).toBe(false);
    expect(bad.reasons).toContain("re-execution produced a different output");
    const padded = await verify(spec(), { ...honest, units: { ...honest.units, standardUnits: 10_000 } }, ctx());
    expect(padded.pass).toBe(false);
    expect(padded.reasons.join(" ")).toMatch(/standard units/);
  });
});
