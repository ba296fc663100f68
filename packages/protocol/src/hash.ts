// Content ids: lowercase hex sha256. Models, WASM modules, blobs and outputs are named by
// what they contain, so two parties holding the same bytes agree on the id without trust.
import { createHash } from "node:crypto";

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export const CONTENT_ID_PATTERN = /^[0-9a-f]{64}$/;

export function isContentId(value: string): boolean {
  return CONTENT_ID_PATTERN.test(value);
}
