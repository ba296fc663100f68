// Public API of the LLM runtime: GGUF models through node-llama-cpp, deterministic greedy and
// seeded sampling, streaming, and the helpers verification needs to re-derive what a job saw.

export { AbortError } from "./abort.js";
export { chatWrapperFor, type FormattedChat, formatChat } from "./chat-format.js";
export { IncrementalDetokenizer } from "./detokenizer.js";
export { type GenerateOptions, generate } from "./generate.js";
export { sha256File } from "./hash-file.js";
export { type PreparedInput, prepareInput, tokenizeInput } from "./input.js";
export { defaultThreads, ModelLoadError } from "./loaded-model.js";
export { decodeOutputText, OutputText } from "./output-text.js";
export {
  createLlmRuntime,
  type LlmExecuteResult,
  type LlmRuntime,
  type LlmRuntimeOptions,
  type ModelHandle,
} from "./runtime.js";
export { logSumExp, type SampledToken, type SamplingParams, sampleToken } from "./sampler.js";
export { type ScanResult, StopScanner } from "./stop-scanner.js";
export { llmStandardUnits } from "./units.js";
