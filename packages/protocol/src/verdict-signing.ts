// Signatures over audit verdicts. Domain-tagged like the other claims, and bound to the exact
// output that was checked, so a verdict can neither be replayed for another job nor another output.
import { canonicalBytes } from "./canonical.js";
import { type Identity, signBytes, verifyBytes } from "./identity.js";

export interface VerdictClaim {
  auditId: string;
  jobId: string;
  outputHash: string;
  pass: boolean;
}

export function verdictSigningBytes(claim: VerdictClaim): Uint8Array {
  return canonicalBytes({
    domain: "tessera.verdict.v1",
    auditId: claim.auditId,
    jobId: claim.jobId,
    outputHash: claim.outputHash,
    pass: claim.pass,
  });
}

export function signVerdict(identity: Identity, claim: VerdictClaim): string {
  return signBytes(identity, verdictSigningBytes(claim));
}

export function verifyVerdictSignature(verifierId: string, claim: VerdictClaim, signature: string): boolean {
  return verifyBytes(verifierId, verdictSigningBytes(claim), signature);
}
