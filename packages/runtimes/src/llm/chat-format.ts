// Chat formatting that is a pure function of the model file and the messages: the provider and
// every verifier must derive the same prompt tokens, so nothing here may depend on the file name,
// the clock or the machine.

import type { ChatMessage } from "@tessera/protocol";
import {
  type ChatHistoryItem,
  type ChatWrapper,
  GeneralChatWrapper,
  type LlamaModel,
  LlamaText,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";

const wrappers = new WeakMap<LlamaModel, ChatWrapper>();

/**
 * The chat wrapper for a model: node-llama-cpp's resolution from the GGUF's `tokenizer.chat_template`
 * (a built-in wrapper when the template is equivalent to one, else the Jinja template itself), or
 * GeneralChatWrapper when the file has no template. Cached per model.
 */
export function chatWrapperFor(model: LlamaModel): ChatWrapper {
  let wrapper = wrappers.get(model);
  if (!wrapper) {
    wrapper = resolveDeterministic(model);
    wrappers.set(model, wrapper);
  }
  return wrapper;
}

function resolveDeterministic(model: LlamaModel): ChatWrapper {
  const template = model.fileInfo.metadata?.tokenizer?.chat_template;
  if (typeof template !== "string" || template.trim() === "") return new GeneralChatWrapper();
  return (
    resolveChatWrapper({
      bosString: model.tokens.bosString,
      architecture: model.fileInfo.metadata?.general?.architecture,
      fileInfo: model.fileInfo,
      tokenizer: model.tokenizer,
      // `filename` is left out on purpose: two nodes may name the same bytes differently.
      warningLogs: false,
      // Wrappers that print "today's date" would make the prompt depend on the clock.
      customWrapperSettings: {
        "llama3.1": { todayDate: null },
        "llama3.2-lightweight": { todayDate: null },
        harmony: { todayDate: null },
        muse: { todayDate: null },
        jinjaTemplate: { template, additionalRenderParameters: { date_string: "01 Jan 2024" } },
      },
    }) ?? new GeneralChatWrapper()
  );
}

export interface FormattedChat {
  tokens: Token[];
  /** plain-text stop triggers the wrapper asks for (e.g. "\n\n### Human:") */
  stopStrings: string[];
  /** single-token stop triggers (end-of-turn tokens) */
  stopTokens: Token[];
}

/**
 * Renders messages with the wrapper and tokenizes the result. A trailing assistant message is
 * continued (prefill); otherwise an empty assistant turn is opened for the model to answer.
 */
export function formatChat(model: LlamaModel, wrapper: ChatWrapper, messages: readonly ChatMessage[]): FormattedChat {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "assistant") return { type: "model", response: [m.content] };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "system", text: m.content }; // system and developer
  });
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });

  const state = wrapper.generateContextState({ chatHistory: history });
  const tokens = state.contextText.tokenize(model.tokenizer);
  const stopStrings: string[] = [];
  const stopTokens: Token[] = [];
  for (const trigger of state.stopGenerationTriggers) {
    const text = LlamaText(trigger);
    if (text.values.every((v) => typeof v === "string")) {
      const s = text.values.join("");
      if (s !== "") stopStrings.push(s);
      continue;
    }
    const ids = text.tokenize(model.tokenizer);
    if (ids.length === 1) stopTokens.push(ids[0] as Token);
    else {
      const s = model.detokenize(ids, false);
      if (s !== "") stopStrings.push(s);
    }
  }
  return { tokens, stopStrings: [...new Set(stopStrings)], stopTokens: [...new Set(stopTokens)] };
}
