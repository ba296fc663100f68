// From generated tokens to the output text: incremental detokenization, then stop strings. Both
// generation and anyone re-deriving `text` from `tokens` (verification) go through this one path.
import type { LlamaModel, Token } from "node-llama-cpp";
import { IncrementalDetokenizer } from "./detokenizer.js";
import { type ScanResult, StopScanner } from "./stop-scanner.js";

export class OutputText {
  private readonly detok: IncrementalDetokenizer;
  private readonly scanner: StopScanner;
  private stopped = false;

  constructor(model: LlamaModel, promptTokens: readonly Token[], stopStrings: readonly string[]) {
    this.detok = new IncrementalDetokenizer(model, promptTokens);
    this.scanner = new StopScanner(stopStrings);
  }

  /** Adds a (non end-of-generation) token; `emit` is text now safe to stream. */
  push(token: Token): ScanResult {
    if (this.stopped) return { emit: "", stopped: true };
    const result = this.scanner.push(this.detok.push(token));
    this.stopped = result.stopped;
    return result;
  }

  /** At the end of generation: settles held-back bytes and stop-string prefixes. */
  finish(): ScanResult {
    if (this.stopped) return { emit: "", stopped: true };
    const last = this.scanner.push(this.detok.flush());
    this.stopped = last.stopped;
    return last.stopped ? last : { emit: last.emit + this.scanner.flush(), stopped: false };
  }
}

/**
 * The `text` an honest run reports for `tokens`: decoding stops at the first end-of-generation
 * or `stopTokens` token, and the text is cut before the first stop string. `stopAt` is the index
 * of the token at which generation stops (-1: it does not), as `generate` decides it: after each
 * token, on the text released so far; the bytes of a character still open are settled (as U+FFFD)
 * only once generation has ended, so a stop string they would complete stops at the last token.
 */
export function decodeOutputText(
  model: LlamaModel,
  promptTokens: readonly Token[],
  tokens: readonly Token[],
  stopStrings: readonly string[] = [],
  stopTokens: readonly Token[] = [],
): { text: string; stopped: boolean; stopAt: number } {
  const out = new OutputText(model, promptTokens, stopStrings);
  let text = "";
  for (const [i, token] of tokens.entries()) {
    if (model.isEogToken(token) || stopTokens.includes(token))
      return { text: text + out.finish().emit, stopped: true, stopAt: i };
    const r = out.push(token);
    text += r.emit;
    if (r.stopped) return { text, stopped: true, stopAt: i };
  }
  const r = out.finish();
  return { text: text + r.emit, stopped: r.stopped, stopAt: r.stopped ? tokens.length - 1 : -1 };
}
