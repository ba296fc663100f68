// Verifying a WASM result: modules are deterministic (no clocks, randomness or host calls) and
// metered in fuel, an exact instruction count (wasm/fuel.ts), so the verifier re-executes and both
// the output hash and the standard units must match the re-run exactly. A claim that the job ran
// out of fuel or trapped is checked alike: the re-run must stop the same way, burning the same fuel.
import { ranOutOfFuel, trapOf } from "@tessera/core";
import { canonicalHash, type JobOutput, type VerdictReport, type WasmJobSpec } from "@tessera/protocol";
import type { ClaimedResult, Runtime, VerifyContext } from "../types.js";

export async function verifyWasmResult(
  rt: Pick<Runtime<WasmJobSpec>, "execute">,
  spec: WasmJobSpec,
  claim: ClaimedResult,
  ctx: VerifyContext,
): Promise<VerdictReport> {
  const rerun = await rt.execute(spec, { jobId: ctx.jobId, attempt: 0, signal: ctx.signal });
  const reasons: string[] = [];
  const claimed = ending(claim.output);
  const found = ending(rerun.output);
  // a trap's wording is the engine's, which another node's may phrase differently: that it trapped,
  // and the fuel burned until then, are what every node reproduces
  const same =
    claimed === found &&
    (claimed !== "produced an output" || canonicalHash(rerun.output) === canonicalHash(claim.output));
  if (claimed !== found) reasons.push(`claimed the job ${claimed}; re-execution ${found}`);
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

/** How a WASM run ended, in the words a verdict gives. */
function ending(output: JobOutput): "produced an output" | "ran out of fuel" | "trapped" {
  if (ranOutOfFuel(output)) return "ran out of fuel";
  return trapOf(output) === undefined ? "produced an output" : "trapped";
}
