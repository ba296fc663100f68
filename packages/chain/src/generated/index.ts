// Generated. Do not edit.
export * from "./TestToken.js";
export * from "./ProviderRegistry.js";
export * from "./Escrow.js";
export * from "./Slashing.js";
export * from "./NodeShares.js";
export const SOURCE_HASH = "3fbd265d103697d3d7798ec6f303465301466b5ad034f4879615960133638b20";
export const SOLC_VERSION = "0.8.26+commit.8a97fa7a.Emscripten.clang";
