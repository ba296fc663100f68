// Checks a job's signed result and its audits' signed verdicts in the browser, trusting nothing
// the gateway says about them: rebuilds the canonical bytes (RFC 8785) of the claim the node signed
// and verifies the ed25519 signature with WebCrypto against the node id (the hex of its public key).
import canonicalize from "canonicalize";

export interface Claim {
  jobId: string;
  attempt: number;
  outputHash: string;
  units: unknown;
}

export type Verdict =
  | { state: "valid"; bytes: string }
  | { state: "invalid"; bytes: string; reason: string }
  | { state: "unsupported"; reason: string };

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function base64Bytes(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function canonicalClaim(c: Claim): string {
  const text = canonicalize({
    domain: "tessera.result.v1",
    jobId: c.jobId,
    attempt: c.attempt,
    outputHash: c.outputHash,
    units: c.units,
  });
  if (text === undefined) throw new TypeError("claim has no canonical form");
  return text;
}

/** What a verifier signs: its verdict on one audit of one result (protocol's verdictSigningBytes). */
export interface VerdictClaim {
  auditId: string;
  jobId: string;
  outputHash: string;
  pass: boolean;
}

export function canonicalVerdict(c: VerdictClaim): string {
  const text = canonicalize({
    domain: "tessera.verdict.v1",
    auditId: c.auditId,
    jobId: c.jobId,
    outputHash: c.outputHash,
    pass: c.pass,
  });
  if (text === undefined) throw new TypeError("verdict has no canonical form");
  return text;
}

export function verifyResult(providerId: string, claim: Claim, signature: string): Promise<Verdict> {
  return verifySigned(providerId, canonicalClaim(claim), signature);
}

export function verifyVerdict(verifierId: string, claim: VerdictClaim, signature: string): Promise<Verdict> {
  return verifySigned(verifierId, canonicalVerdict(claim), signature);
}

async function verifySigned(nodeId: string, text: string, signature: string): Promise<Verdict> {
  if (!globalThis.crypto?.subtle)
    return { state: "unsupported", reason: "this browser has no WebCrypto (use https or localhost)" };
  let key: CryptoKey;
  try {
    if (!/^[0-9a-f]{64}$/.test(nodeId))
      return { state: "invalid", bytes: text, reason: "node id is not a 32-byte ed25519 key" };
    key = await crypto.subtle.importKey("raw", hexBytes(nodeId), { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    return { state: "unsupported", reason: `this browser cannot import Ed25519 keys (${(e as Error).message})` };
  }
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = base64Bytes(signature);
  } catch {
    return { state: "invalid", bytes: text, reason: "the signature is not base64" };
  }
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, sig, new TextEncoder().encode(text));
  return ok
    ? { state: "valid", bytes: text }
    : { state: "invalid", bytes: text, reason: "signature does not match the claim" };
}

/** sha256 hex of the canonical JSON of a value: how the output hash is computed. */
export async function canonicalSha256(value: unknown): Promise<string> {
  const text = canonicalize(value) ?? "";
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
