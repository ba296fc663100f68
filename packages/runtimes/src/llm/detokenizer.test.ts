// IncrementalDetokenizer over a stand-in byte-level BPE model (no such GGUF is available offline):
// tokens are raw byte strings that may end partway through a character, as in Qwen or Llama 3.
import fc from "fast-check";
import type { LlamaModel, Token } from "node-llama-cpp";
import { describe, expect, test } from "vitest";
import { IncrementalDetokenizer } from "./detokenizer.js";
import { decodeOutputText } from "./output-text.js";

const R = "\uFFFD";

/**
 * A model whose token `i` is `pieces[i]` (bytes; empty for a control token). `detokenize` decodes
 * UTF-8 with U+FFFD for invalid or incomplete sequences as llama.cpp through N-API does, and
 * handles `lastTokens` exactly as node-llama-cpp's `LlamaModel.detokenize`: the last 3 of them
 * are decoded with the tokens and their own text is cut off the front, unless it is empty or the
 * joint text does not start with it, in which case the tokens are decoded alone.
 */
function byteModel(pieces: readonly (readonly number[])[]): LlamaModel {
  const decode = (tokens: readonly Token[]) =>
    new TextDecoder().decode(Uint8Array.from(tokens.flatMap((t) => pieces[t] ?? [])));
  const detokenize = (tokens: readonly Token[], _special = false, lastTokens?: readonly Token[]) => {
    if (tokens.length === 0) return "";
    if (lastTokens == null || lastTokens.length === 0) return decode(tokens);
    const added = lastTokens.slice(-3);
    const addedText = decode(added);
    if (addedText === "") return decode(tokens);
    const text = decode([...added, ...tokens]);
    return text.startsWith(addedText) ? text.slice(addedText.length) : decode(tokens);
  };
  return { detokenize, isEogToken: () => false } as unknown as LlamaModel;
}

/** A vocabulary of the given byte pieces; `tokens` are their ids in order. */
function vocab(pieces: readonly (readonly number[])[]) {
  return { model: byteModel(pieces), tokens: pieces.map((_, i) => i as Token) };
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];

function stream(model: LlamaModel, tokens: readonly Token[], context: readonly Token[] = []) {
  const d = new IncrementalDetokenizer(model, context);
  const pieces = tokens.map((t) => d.push(t));
  pieces.push(d.flush());
  return pieces;
}

describe("IncrementalDetokenizer over byte-level tokens", () => {
  test("tokens that each end partway through a character stream each character once it is complete", () => {
    // "a中文字中": every token carries the first byte of the next character
    const { model, tokens } = vocab([
      [0x61, 0xe4],
      [0xb8, 0xad, 0xe6],
      [0x96, 0x87, 0xe5],
      [0xad, 0x97, 0xe4],
      [0xb8, 0xad],
    ]);
    expect(stream(model, tokens)).toEqual(["a", "中", "文", "字", "中", ""]);
    expect(decodeOutputText(model, [], tokens).text).toBe("a中文字中");
  });

  test("a character split across 2, 3 and 4 tokens is held back until its last byte", () => {
    const two = vocab([[0xe4], [0xb8, 0xad]]);
    expect(stream(two.model, two.tokens)).toEqual(["", "中", ""]);
    const three = vocab([[0xe4], [0xb8], [0xad]]);
    expect(stream(three.model, three.tokens)).toEqual(["", "", "中", ""]);
    const four = vocab([[0xf0], [0x9f], [0x98], [0x80]]);
    expect(stream(four.model, four.tokens)).toEqual(["", "", "", "😀", ""]);
  });

  test("a character split across 2, 3 and 4 tokens, the last of which starts the next character", () => {
    const two = vocab([
      [0x61, 0xe4],
      [0xb8, 0xad, 0xe6],
      [0x96, 0x87],
    ]);
    expect(stream(two.model, two.tokens)).toEqual(["a", "中", "文", ""]);
    const three = vocab([[0xe4], [0xb8], [0xad, 0xe6], [0x96, 0x87]]);
    expect(stream(three.model, three.tokens)).toEqual(["", "", "中", "文", ""]);
    const four = vocab([[0xf0], [0x9f], [0x98], [0x80, 0xe4], [0xb8, 0xad]]);
    expect(stream(four.model, four.tokens)).toEqual(["", "", "", "😀", "中", ""]);
  });

  test("a run of 5 and more tokens with no character boundary between them loses nothing", () => {
    const text = "中文字中文字😀日本語👍🏽";
    const bytes = utf8(text);
    // each token is the rest of one character and the first byte of the next: no token ends on a
    // character boundary
    const lens = [...text].map((c) => utf8(c).length);
    const straddling: number[][] = [];
    let at = 0;
    for (const [i, len] of lens.entries()) {
      straddling.push(bytes.slice(i === 0 ? 0 : at + 1, i + 1 < lens.length ? at + len + 1 : at + len));
      at += len;
    }
    expect(straddling.flat()).toEqual(bytes);
    const { model, tokens } = vocab(straddling);
    const out = stream(model, tokens);
    expect(out.join("")).toBe(text);
    expect(out.slice(0, 3)).toEqual(["中", "文", "字"]);
    expect(decodeOutputText(model, [], tokens).text).toBe(text);
  });

  test("emoji (4 bytes, 2 UTF-16 units) split across tokens, after a prompt", () => {
    const { model, tokens } = vocab([
      utf8("Hi "),
      [0xf0, 0x9f],
      [0x98, 0x80, 0xf0],
      [0x9f, 0x91],
      [0x8d, 0xf0, 0x9f, 0x8f],
      [0xbd, 0x21],
    ]);
    const [prompt, ...output] = tokens as [Token, ...Token[]];
    expect(stream(model, output, [prompt])).toEqual(["", "😀", "", "👍", "🏽!", ""]);
  });

  test("invalid bytes come out as U+FFFD, as decoding the whole sequence gives them", () => {
    const { model, tokens } = vocab([
      [0x80], // lone continuation byte
      [0xe4, 0x41], // truncated character, then "A"
      [0xff],
      [0xc0, 0x80], // overlong
      [0xed, 0xa0, 0x80], // surrogate
      [0xf0, 0x9f], // truncated at the end
    ]);
    const whole = `${R}${R}A${R.repeat(7)}`;
    expect(model.detokenize(tokens, false)).toBe(whole);
    // each U+FFFD comes out with the next token; only the last character is ever held back
    expect(stream(model, tokens)).toEqual(["", `${R}${R}A`, "", `${R}${R}`, `${R}${R}${R}`, R, R]);
    expect(decodeOutputText(model, [], tokens).text).toBe(whole);
  });

  test("a stream of invalid bytes never stalls: each U+FFFD comes out with the next token", () => {
    const { model } = vocab([[0xf0, 0x9f]]);
    const d = new IncrementalDetokenizer(model, []);
    const pieces = Array.from({ length: 50 }, () => d.push(0 as Token));
    expect(pieces[0]).toBe("");
    expect(pieces.slice(1).every((p) => p === R)).toBe(true);
    expect(d.flush()).toBe(R);
  });

  test("an open character followed only by tokens without text is released within 8 tokens", () => {
    const { model } = vocab([[0xe4], []]);
    const d = new IncrementalDetokenizer(model, []);
    const pieces = [d.push(0 as Token), ...Array.from({ length: 20 }, () => d.push(1 as Token))];
    const at = pieces.indexOf(R);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(8);
    expect(pieces.join("")).toBe(R);
    expect(d.flush()).toBe("");
  });

  test("streamed pieces join to the whole decode for any valid UTF-8 cut into any byte tokens", () => {
    const char = fc.oneof(
      fc.constantFrom("a", " ", "é", "中", "😀", "👍🏽", "\uFFFD"),
      fc
        .integer({ min: 0, max: 0x10ffff })
        .filter((c) => c < 0xd800 || c > 0xdfff)
        .map((c) => String.fromCodePoint(c)),
    );
    const text = fc.array(char, { maxLength: 30 }).map((cs) => cs.join(""));
    // token lengths; 0 is a control token without text (never two in a row)
    const cuts = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 20 });
    const toPieces = (s: string, lens: number[]) => {
      const bytes = utf8(s);
      const pieces: number[][] = [];
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const len = lens[i % lens.length] as number;
        const prevEmpty = pieces.length > 0 && pieces[pieces.length - 1]?.length === 0;
        const take = len === 0 && prevEmpty ? 1 : len;
        pieces.push(bytes.slice(at, at + take));
        at += take;
      }
      return pieces;
    };
    fc.assert(
      fc.property(text, text, cuts, cuts, (prompt, body, promptCuts, bodyCuts) => {
        const contextPieces = toPieces(prompt, promptCuts);
        const bodyPieces = toPieces(body, bodyCuts);
        const { model, tokens } = vocab([...contextPieces, ...bodyPieces]);
        const context = tokens.slice(0, contextPieces.length);
        const output = tokens.slice(contextPieces.length);
        const whole = model.detokenize(output, false, context);
        expect(whole).toBe(body);
        expect(stream(model, output, context).join("")).toBe(whole);
        expect(decodeOutputText(model, context, output).text).toBe(whole);
      }),
      { numRuns: 500 },
    );
  });
});
