// Verifying a WASM result: modules are deterministic (no clocks, randomness or host calls), so the
// verifier re-executes and the output must hash identically. Metering is CPU time × throughput,
// which varies by machine, so the claim is only bounded: no more than a factor over the re-run.
import { canonicalHash, type VerdictReport, type WasmJobSpec } from "@tessera/protocol";
import type { ClaimedResult, Runtime, VerifyContext } from "../types.js";
import { DEFAULT_WASM_TOLERANCES, type WasmTolerances } from "./tolerances.js";

export async function verifyWasmResult(
  rt: Pick<Runtime<WasmJobSpec>, "execute">,
  spec: WasmJobSpec,
  claim: ClaimedResult,
  ctx: VerifyContext,
  tol: WasmTolerances = DEFAULT_WASM_TOLERANCES,
): Promise<VerdictReport> {
  const rerun = await rt.execute(spec, { jobId: ctx.jobId, attempt: 0, signal: ctx.signal });
  const reasons: string[] = [];
  const same = canonicalHash(rerun.output) === canonicalHash(claim.output);
  if (!same) reasons.push("re-execution produced a different output");
  const u = claim.units;
  if (u.inputTokens !== 0 || u.outputTokens !== 0) reasons.push("a wasm job bills no tokens");
  const bound = Math.ceil(rerun.units.standardUnits * tol.unitsFactor) + tol.slackUnits;
  if (u.standardUnits > bound)
    reasons.push(`billed ${u.standardUnits} standard units, re-execution took ${rerun.units.standardUnits}`);
  return {
    pass: reasons.length === 0,
    reasons,
    checks: ["output-hash", "metering"],
    metrics: {
      outputMatches: same ? 1 : 0,
      claimedUnits: u.standardUnits,
      measuredUnits: rerun.units.standardUnits,
    },
  };
}
