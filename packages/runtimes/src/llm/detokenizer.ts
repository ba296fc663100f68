// Incremental detokenization for streaming. A UTF-8 character can be split across tokens, and in
// byte-level BPE vocabularies a token can end partway through one character and begin the next;
// text is released up to the last complete character, so streamed pieces never contain half a
// character and concatenate to what the whole sequence decodes to.
import type { LlamaModel, Token } from "node-llama-cpp";

/**
 * Tokens of context a continuation is decoded against, as node-llama-cpp's `lastTokens` does
 * (its `maxRecentDetokenizerTokens`): pinned here because the text is part of what a verifier
 * re-derives from the tokens, so it must not change with the library's heuristics.
 */
const RECENT_TOKENS = 3;
/**
 * The longest a character is held back, in tokens since its first byte. Tokens with text add at
 * least a byte each, so an incomplete character resolves (completes, or proves invalid) within 3;
 * more means tokens without text (control tokens) in between, and it is released as U+FFFD.
 */
const MAX_HELD_TOKENS = 8;
const REPLACEMENT = "\uFFFD";

export class IncrementalDetokenizer {
  /** the latest tokens, all released except (when `held` > 0) the last character they decode to */
  private readonly history: Token[];
  /** 0, or how many of the latest tokens the held-back last character may have bytes in */
  private held = 0;

  /** `context`: the tokens before the first one pushed (the prompt), so spacing comes out right. */
  constructor(
    private readonly model: LlamaModel,
    context: readonly Token[],
  ) {
    this.history = context.slice(-MAX_HELD_TOKENS);
  }

  /** Adds a token; returns the text it completes ("" while a multi-byte character is still open). */
  push(token: Token): string {
    const text = this.continuation(token);
    this.history.push(token);
    if (this.history.length > MAX_HELD_TOKENS) this.history.shift();
    if (!text.endsWith(REPLACEMENT)) {
      this.held = 0;
      return text;
    }
    // An open character ends the text as one U+FFFD. Anything before it is settled, so when there
    // is something, the open character started in this token (UTF-8 decoding resumes at the byte
    // that settled what came before); otherwise it may still have bytes in the earlier tokens.
    this.held = text.length > 1 || this.held === 0 ? 1 : this.held + 1;
    if (this.held > MAX_HELD_TOKENS) {
      this.held = 0;
      return text;
    }
    return text.slice(0, -1);
  }

  /** Releases whatever is held back (an incomplete sequence decodes to U+FFFD). */
  flush(): string {
    const out = this.held > 0 ? REPLACEMENT : "";
    this.held = 0;
    return out;
  }

  /**
   * The text `token` adds after the released text, the held-back character included: node-llama-cpp's
   * `lastTokens` rule (decode context + token, drop the context's own text), except that the held
   * character is not dropped, since the token may complete it. The context reaches back far enough
   * to hold all of that character's bytes; decoding the token against context that ends partway
   * through a character would turn both halves into U+FFFD.
   */
  private continuation(token: Token): string {
    const context = this.history.slice(-Math.max(RECENT_TOKENS, this.held));
    const before = this.decode(context);
    const open = this.held > 0 && before.endsWith(REPLACEMENT);
    const released = open ? before.slice(0, -1) : before;
    if (before !== "") {
      const text = this.decode([...context, token]);
      if (text.startsWith(released)) return text.slice(released.length);
    }
    return (open ? REPLACEMENT : "") + this.decode([token]);
  }

  private decode(tokens: readonly Token[]): string {
    return tokens.length === 0 ? "" : this.model.detokenize(tokens, false);
  }
}
