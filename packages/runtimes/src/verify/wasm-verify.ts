// Verifying a WASM result: modules are deterministic (no clocks, randomness or host calls) and
// metered in fuel, an exact instruction count (wasm/fuel.ts), so the verifier re-executes and both
// the output hash and the standard units must match the re-run exactly. A claim that the job ran
// out of fuel is checked alike: the re-run must run out too, and both bill the whole limit.
import { ranOutOfFuel } from "@tessera/core";
import { canonicalHash, type VerdictReport, type WasmJobSpec } from "@tessera/protocol";
import type { ClaimedResult, Runtime, VerifyContext } from "../types.js";

export async function verifyWasmResult(
  rt: Pick<Runtime<WasmJobSpec>, "execute">,
  spec: WasmJobSpec,
  claim: ClaimedResult,
  ctx: VerifyContext,
): Promise<VerdictReport> {
  const rerun = await rt.execute(spec, { jobId: ctx.jobId, attempt: 0, signal: ctx.signal });
  const reasons: string[] = [];
  const same = canonicalHash(rerun.output) === canonicalHash(claim.output);
  const claimedOutOfFuel = ranOutOfFuel(claim.output);
  const rerunOutOfFuel = ranOutOfFuel(rerun.output);
  if (claimedOutOfFuel && !rerunOutOfFuel)
    reasons.push("claimed to run out of fuel; re-execution finished within the limit");
  else if (rerunOutOfFuel && !claimedOutOfFuel) reasons.push("re-execution ran out of fuel before producing an output");
  else if (!same) reasons.push("re-execution produced a different output");
  const u = claim.units;
  if (u.inputTokens !== 0 || u.outputTokens !== 0) reasons.push("a wasm job bills no tokens");
  if (u.standardUnits !== rerun.units.standardUnits) {
    reasons.push(
      `billed ${u.standardUnits} standard units; re-execution burned fuel worth exactly ${rerun.units.standardUnits}`,
    );
  }
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
