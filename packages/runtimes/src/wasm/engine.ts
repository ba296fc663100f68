// The slice of the WebAssembly JS API the host uses in the main thread, typed here because the
// project compiles against lib ES2023 without DOM, which has no WebAssembly types; declaring
// them globally would clash with any package that later adds the DOM lib.

declare const compiledModule: unique symbol;

/** A compiled `WebAssembly.Module`: opaque to the host, shareable with worker threads. */
export interface WasmModule {
  readonly [compiledModule]: true;
}

interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
