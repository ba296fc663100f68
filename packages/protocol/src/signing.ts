// What gets signed, with a domain tag per purpose so that a signature made for one thing
// (a login challenge) can never be replayed as another (a job result).
import { canonicalBytes } from "./canonical.js";
import { type Identity, signBytes, verifyBytes } from "./identity.js";
import type { Units } from "./schemas/units.js";

export interface ResultClaim {
  jobId: string;
  attempt: number;
  outputHash: string;
  units: Units;
}

export function resultSigningBytes(claim: ResultClaim): Uint8Array {
  return canonicalBytes({
    domain: "tessera.result.v1",
    jobId: claim.jobId,
    attempt: claim.attempt,
    outputHash: claim.outputHash,
    units: claim.units,
  });
}

export function signResult(identity: Identity, claim: ResultClaim): string {
  return signBytes(identity, resultSigningBytes(claim));
}

export function verifyResultSignature(providerId: string, claim: ResultClaim, signature: string): boolean {
  return verifyBytes(providerId, resultSigningBytes(claim), signature);
}

export interface AuthClaim {
  gatewayId: string;
  nonce: string;
  nodeId: string;
}

export function authSigningBytes(claim: AuthClaim): Uint8Array {
  return canonicalBytes({ domain: "tessera.auth.v1", ...claim });
}

export function signAuth(identity: Identity, claim: Omit<AuthClaim, "nodeId">): string {
  return signBytes(identity, authSigningBytes({ ...claim, nodeId: identity.id }));
}

export function verifyAuthSignature(claim: AuthClaim, signature: string): boolean {
  return verifyBytes(claim.nodeId, authSigningBytes(claim), signature);
}
