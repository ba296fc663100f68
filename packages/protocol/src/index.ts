export { PROTOCOL_VERSION } from "./version.js";
export { sha256Hex, isContentId, CONTENT_ID_PATTERN } from "./hash.js";
export { canonicalJson, canonicalBytes, canonicalHash } from "./canonical.js";
export {
  type Identity,
  generateIdentity,
  saveKeyFile,
  loadKeyFile,
  loadOrCreateKeyFile,
  publicKeyFromId,
  signBytes,
  verifyBytes,
} from "./identity.js";
export {
  type ResultClaim,
  type AuthClaim,
  resultSigningBytes,
  signResult,
  verifyResultSignature,
  authSigningBytes,
  signAuth,
  verifyAuthSignature,
} from "./signing.js";
export * from "./schemas/units.js";
export * from "./schemas/job.js";
export * from "./schemas/wire.js";
export * from "./schemas/openai.js";
export * from "./errors.js";
