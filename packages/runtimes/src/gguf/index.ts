// Public API of the GGUF helpers: a small GGUF v3 writer, the seeded tiny test model, and
// parameter counting from tensor shapes.

export { ggufParameterCount, readGgufParameterCount, type TensorShape } from "./params.js";
export { Prng } from "./prng.js";
export { WEIGHT_TYPES, type WeightType } from "./quantize.js";
export {
  CHATML_TEMPLATE,
  encodeTinyModel,
  ensureTinyModel,
  makeTinyModel,
  TINY_MODEL_FILE,
  type TinyModelOptions,
  tinyModelParameterCount,
} from "./tiny-model.js";
export { buildVocabulary, TokenType, type Vocabulary } from "./vocab.js";
export { encodeGguf, type GgufDocument, type GgufTensor, type GgufValue, GgufValueType } from "./writer.js";
