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
 * or `stopTokens` token, and the text is cut before the first stop string.
 */
export function decodeOutputText(
  model: LlamaModel,
  promptTokens: readonly Token[],
  tokens: readonly Token[],
  stopStrings: readonly string[] = [],
  stopTokens: readonly Token[] = [],
): { text: string; stopped: boolean } {
  const out = new OutputText(model, promptTokens, stopStrings);
  let text = "";
  for (const token of tokens) {
    if (model.isEogToken(token) || stopTokens.includes(token)) return { text: text + out.finish().emit, stopped: true };
    const r = out.push(token);
    text += r.emit;
    if (r.stopped) return { text, stopped: true };
  }
  const r = out.finish();
  return { text: text + r.emit, stopped: r.stopped };
}
