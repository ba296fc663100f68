// Generated. Do not edit.
export * from "./TestToken.js";
export * from "./ProviderRegistry.js";
export * from "./Escrow.js";
export * from "./Slashing.js";
export * from "./NodeShares.js";
export const SOURCE_HASH = "213a62f1da29923252b9701cfa7c9be1b400911f50575eb69c623795debdd2bb";
export const SOLC_VERSION = "0.8.26+commit.8a97fa7a.Emscripten.clang";
