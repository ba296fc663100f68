// Public API of the runtimes package: the Runtime seam, and the llm, wasm and gguf modules.

export * from "./gguf/index.js";
export * from "./llm/index.js";
export * from "./types.js";
export * from "./verify/index.js";
export * from "./wasm/index.js";
