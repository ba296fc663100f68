// WASM verification re-executes the module: honest results pass, altered outputs fail, and the
// units must match the re-run's fuel exactly; a claim that the job ran out of fuel or trapped must be one.
import { sha256Hex, type WasmJobSpec } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Runtime } from "../types.js";
import { loadBuiltinModule } from "../wasm/modules.js";
import { createWasmRuntime } from "../wasm/runtime.js";

let rt: Runtime<WasmJobSpec>;
let reverse: string;
let primes: string;
beforeAll(async () => {
  const modules = new Map<string, Uint8Array>();
  for (const name of ["reverse", "primes"] as const) modules.set(name, await loadBuiltinModule(name));
  const byId = new Map([...modules.values()].map((bytes) => [sha256Hex(bytes), bytes]));
  reverse = sha256Hex(modules.get("reverse") as Uint8Array);
  primes = sha256Hex(modules.get("primes") as Uint8Array);
  const fetch = async (id: string) => byId.get(id) ?? Promise.reject(new Error(`no module ${id}`));
  rt = createWasmRuntime({ fetchModule: fetch, fetchBlob: fetch, poolSize: 1 });
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

  test("fails a claim billing one standard unit more or less than the re-run's fuel", async () => {
    const verify = rt.verify?.bind(rt);
    if (!verify) throw new Error("the wasm runtime has no verify");
    const primesSpec = (): WasmJobSpec => ({ ...spec(), module: primes, input: { data: btoa("200000") } });
    const honest = await rt.execute(primesSpec(), ctx());
    const su = honest.units.standardUnits;
    expect(su).toBeGreaterThan(1);
    const withUnits = (standardUnits: number) => ({ ...honest, units: { ...honest.units, standardUnits } });
    expect((await verify(primesSpec(), withUnits(su), ctx())).pass).toBe(true);
    const over = await verify(primesSpec(), withUnits(su + 1), ctx());
    expect(over).toMatchObject({
      pass: false,
      reasons: [`billed ${su + 1} standard units; re-execution burned fuel worth exactly ${su}`],
    });
    expect(over.metrics).toMatchObject({ outputMatches: 1, claimedUnits: su + 1, measuredUnits: su });
    const under = await verify(primesSpec(), withUnits(su - 1), ctx());
    expect(under.reasons).toEqual([`billed ${su - 1} standard units; re-execution burned fuel worth exactly ${su}`]);
  });

  test("passes a job that ran out of fuel on the re-run too, and fails that claim for a job that did not", async () => {
    const verify = rt.verify?.bind(rt);
    if (!verify) throw new Error("the wasm runtime has no verify");
    // primes up to 200,000 burns more than 10⁶ fuel
    const capped = (maxFuel: number): WasmJobSpec => ({
      ...spec(),
      module: primes,
      input: { data: btoa("200000") },
      limits: { ...spec().limits, maxFuel },
    });
    const outOfFuel = await rt.execute(capped(1_000_000), ctx());
    expect(outOfFuel.output).toEqual({ data: "", outOfFuel: true });
    expect(await verify(capped(1_000_000), outOfFuel, ctx())).toMatchObject({ pass: true, reasons: [] });
    // the same claim where the limit was enough: the node kept the whole escrow for no output
    const lie = await verify(capped(10 ** 12), outOfFuel, ctx());
    expect(lie.pass).toBe(false);
    expect(lie.reasons[0]).toBe("claimed the job ran out of fuel; re-execution produced an output");
    // and the other way: an output claimed for a job that cannot make one within its limit
    const honest = await rt.execute(capped(10 ** 12), ctx());
    const made = await verify(capped(1_000_000), honest, ctx());
    expect(made.pass).toBe(false);
    expect(made.reasons[0]).toBe("claimed the job produced an output; re-execution ran out of fuel");
  });

  test("passes a trap the re-run meets too, whatever its wording, and fails one where the re-run finished", async () => {
    const verify = rt.verify?.bind(rt);
    if (!verify) throw new Error("the wasm runtime has no verify");
    // primes traps (unreachable) on an empty input, after burning some fuel
    const trapping: WasmJobSpec = { ...spec(), module: primes, input: { data: "" } };
    const trapped = await rt.execute(trapping, ctx());
    expect(trapped.output).toEqual({ data: "", trap: "wasm trap: unreachable" });
    // another engine's words for the same trap
    const worded = { ...trapped, output: { data: "", trap: "RuntimeError: unreachable executed" } };
    expect(await verify(trapping, worded, ctx())).toMatchObject({ pass: true, reasons: [] });
    const cheaper = { ...trapped, units: { ...trapped.units, standardUnits: trapped.units.standardUnits + 1 } };
    expect((await verify(trapping, cheaper, ctx())).pass).toBe(false);
    // a node that says "trap" to skip a job that runs
    const skipped = await verify(spec(), trapped, ctx());
    expect(skipped.pass).toBe(false);
    expect(skipped.reasons[0]).toBe("claimed the job trapped; re-execution produced an output");
  });
});
