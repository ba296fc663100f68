// Generated. Do not edit.
export * from "./TestToken.js";
export * from "./ProviderRegistry.js";
export * from "./Escrow.js";
export * from "./Slashing.js";
export * from "./NodeShares.js";
export const SOURCE_HASH = "ac990f655419feea83ecfb03f4b0ef56c179e9f67fb90ced5c8b31f6c0004394";
export const SOLC_VERSION = "0.8.26+commit.8a97fa7a.Emscripten.clang";
