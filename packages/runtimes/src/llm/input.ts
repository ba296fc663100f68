// Turning a job's input into prompt tokens. This is the one definition both generation and
// verification use, so "the same input on the same model file" always means the same tokens.

import type { LlmInput } from "@tessera/protocol";
import type { LlamaModel, Token } from "node-llama-cpp";
import { chatWrapperFor, formatChat } from "./chat-format.js";

export interface PreparedInput {
  /** prompt tokens, BOS included where the model wants one */
  tokens: Token[];
  /** stop strings implied by the chat format (added to the job's own `stop`) */
  stopStrings: string[];
  /** tokens that end generation besides the model's end-of-generation tokens */
  stopTokens: Token[];
}

/**
 * `{prompt}`: BOS (if the model's tokenizer adds one) + the prompt tokenized with special-token
 * parsing, as llama.cpp's server does for raw completions. `{messages}`: the model's chat template
 * (see chat-format.ts); message contents are tokenized as plain text so they cannot inject
 * control tokens.
 */
export function prepareInput(model: LlamaModel, input: LlmInput): PreparedInput {
  if ("prompt" in input) {
    const bos = model.tokens.shouldPrependBosToken && model.tokens.bos != null ? [model.tokens.bos] : [];
    return { tokens: [...bos, ...model.tokenize(input.prompt, true)], stopStrings: [], stopTokens: [] };
  }
  return formatChat(model, chatWrapperFor(model), input.messages);
}

/** The prompt tokens for an input: what a verifier re-derives before its teacher-forced pass. */
export function tokenizeInput(model: LlamaModel, input: LlmInput): Token[] {
  return prepareInput(model, input).tokens;
}

/** UTF-8 bytes of an input's text: the prompt, or every message's content. */
export function inputBytes(input: LlmInput): number {
  if ("prompt" in input) return Buffer.byteLength(input.prompt, "utf8");
  let n = 0;
  for (const m of input.messages) n += Buffer.byteLength(m.content, "utf8");
  return n;
}
