// The wire protocol version. A provider whose hello names another version is refused at
// connect, so that a gateway never misreads messages from an incompatible daemon.
// 2 (2026-12-07): a WASM result may say the job ran out of fuel or trapped (WasmOutput `outOfFuel`,
// `trap`), which a version-1 gateway or verifier refuses as a malformed frame.
export const PROTOCOL_VERSION = 2;
