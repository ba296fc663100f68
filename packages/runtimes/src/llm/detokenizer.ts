// Incremental detokenization for streaming. A UTF-8 character can be split across byte tokens
// (SentencePiece byte fallback, byte-level BPE); text is released only once it decodes cleanly,
// so streamed pieces never contain half a character and concatenate to the final text.
import type { LlamaModel, Token } from "node-llama-cpp";

/** 4 bytes is the longest UTF-8 sequence; past that the oldest held token is genuinely invalid. */
const MAX_PENDING_TOKENS = 4;
/** how much preceding context the detokenizer sees (leading-space rules of SPM and the like) */
const CONTEXT_TOKENS = 16;
const REPLACEMENT = "\uFFFD";

export class IncrementalDetokenizer {
  private readonly history: Token[];
  private pending: Token[] = [];

  /** `context`: the tokens before the first one pushed (the prompt), so spacing comes out right. */
  constructor(
    private readonly model: LlamaModel,
    context: readonly Token[],
  ) {
    this.history = context.slice(-CONTEXT_TOKENS);
  }

  /** Adds a token; returns the text it completes ("" while a multi-byte character is still open). */
  push(token: Token): string {
    this.pending.push(token);
    return this.drain(false);
  }

  /** Releases whatever is held back (an incomplete sequence decodes to U+FFFD). */
  flush(): string {
    return this.drain(true);
  }

  private drain(final: boolean): string {
    let out = "";
    while (this.pending.length > 0) {
      const text = this.decode(this.pending);
      if (final || !text.endsWith(REPLACEMENT)) return out + this.commit(this.pending.length, text);
      if (this.pending.length < MAX_PENDING_TOKENS) return out;
      // Four tokens and still no complete character: the oldest cannot be part of one. Release it
      // alone (as U+FFFD) and re-examine the rest, so one stray byte does not swallow a valid
      // character that follows it.
      out += this.commit(1, this.decode(this.pending.slice(0, 1)));
    }
    return out;
  }

  private decode(tokens: Token[]): string {
    return this.model.detokenize(tokens, false, this.history);
  }

  private commit(count: number, text: string): string {
    this.history.push(...this.pending.splice(0, count));
    if (this.history.length > CONTEXT_TOKENS) this.history.splice(0, this.history.length - CONTEXT_TOKENS);
    return text;
  }
}
