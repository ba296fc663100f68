// RFC 8785 (JCS) canonical JSON: the only byte form we sign or hash, so that a signature
// made by one implementation verifies in another regardless of key order or spacing.
import canonicalizeModule from "canonicalize";
import { sha256Hex } from "./hash.js";

// The package is CommonJS (`module.exports = fn`) but its typings declare a default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError("value has no canonical JSON form");
  return out;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** sha256 of the canonical JSON of a value: how outputs are named in signed results. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
