export { canonicalBytes, canonicalHash, canonicalJson } from "./canonical.js";
export * from "./errors.js";
export { CONTENT_ID_PATTERN, isContentId, sha256Hex } from "./hash.js";
export {
  generateIdentity,
  type Identity,
  loadKeyFile,
  loadOrCreateKeyFile,
  publicKeyFromId,
  saveKeyFile,
  signBytes,
  verifyBytes,
  writeSecretFileSync,
} from "./identity.js";
export {
  NODE_AUTH_HEADERS,
  NODE_AUTH_WINDOW_MS,
  nodeRequestBytes,
  signNodeRequest,
  verifyNodeRequest,
} from "./request-signing.js";
export * from "./schemas/audit.js";
export * from "./schemas/chain.js";
export * from "./schemas/job.js";
export * from "./schemas/openai.js";
export * from "./schemas/units.js";
export * from "./schemas/wire.js";
export {
  type AuthClaim,
  authSigningBytes,
  type ResultClaim,
  resultSigningBytes,
  signAuth,
  signResult,
  verifyAuthSignature,
  verifyResultSignature,
} from "./signing.js";
export { signVerdict, type VerdictClaim, verdictSigningBytes, verifyVerdictSignature } from "./verdict-signing.js";
export { PROTOCOL_VERSION } from "./version.js";
