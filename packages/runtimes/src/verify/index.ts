// Public API of verification: re-checking a claimed result per runtime, and the tolerances used.
export {
  type CheckOutcome,
  checkGreedy,
  checkLogprobs,
  checkSampled,
  logprobAt,
  type PositionMeasure,
} from "./llm-checks.js";
export { verifyLlmResult } from "./llm-verify.js";
export {
  DEFAULT_LLM_TOLERANCES,
  type LlmTolerances,
  llmTolerancesFor,
  QUANTIZED_LLM_TOLERANCES,
} from "./tolerances.js";
export { verifyWasmResult } from "./wasm-verify.js";
