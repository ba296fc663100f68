import { promptTokenBound } from "@tessera/core";
import type { LlmInput, LlmJobSpec } from "@tessera/protocol";
import { GeneralChatWrapper, getLlama, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TempModel, tempTinyModel } from "../gguf/testing.js";
import { buildVocabulary } from "../gguf/vocab.js";
import { chatWrapperFor, decodeOutputText, IncrementalDetokenizer, prepareInput, tokenizeInput } from "./index.js";

let llama: Llama;
let withChat: TempModel;
let noChat: TempModel;
let model: LlamaModel;
let plainModel: LlamaModel;
const vocab = buildVocabulary({ chatTokens: true });
const id = (piece: string) => vocab.tokens.indexOf(piece) as Token;
const BOS = vocab.bosId as Token;
const EOS = vocab.eosId as Token;

beforeAll(async () => {
  withChat = await tempTinyModel();
  noChat = await tempTinyModel({ chatTemplate: false });
  llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false });
  model = await llama.loadModel({ modelPath: withChat.path });
  plainModel = await llama.loadModel({ modelPath: noChat.path });
});
afterAll(async () => {
  await llama?.dispose();
  await withChat?.cleanup();
  await noChat?.cleanup();
});

describe("prompt tokenization", () => {
  test("a raw prompt gets BOS and SentencePiece pieces with a leading space", () => {
    expect(tokenizeInput(model, { prompt: "the world" })).toEqual([BOS, id("▁the"), id("▁world")]);
  });

  test("characters outside the vocabulary fall back to byte tokens", () => {
    const tokens = tokenizeInput(model, { prompt: "日" });
    // ▁ then the three UTF-8 bytes of 日 (E6 97 A5)
    expect(tokens).toEqual([BOS, id("▁"), id("<0xE6>"), id("<0x97>"), id("<0xA5>")]);
  });

  test("chat messages use the GGUF's ChatML template, ending with an open assistant turn", () => {
    const input = {
      messages: [
        { role: "system" as const, content: "Be brief." },
        { role: "user" as const, content: "Hello" },
      ],
    };
    const prepared = prepareInput(model, input);
    expect(chatWrapperFor(model).wrapperName).toBe("ChatML");
    const text = model.detokenize(prepared.tokens, true);
    expect(text).toMatch(
      /^<s><\|im_start\|> ?system\nBe brief\.<\|im_end\|> ?\n<\|im_start\|> ?user\nHello<\|im_end\|> ?\n<\|im_start\|> ?assistant\n$/,
    );
    expect(prepared.tokens[0]).toBe(BOS);
    expect(prepared.tokens.filter((t) => t === vocab.imStartId)).toHaveLength(3);
    expect(prepared.stopTokens).toContain(vocab.imEndId);
    expect(tokenizeInput(model, input)).toEqual(prepared.tokens); // same tokens every time
  });

  test("message content cannot inject control tokens", () => {
    const tokens = tokenizeInput(model, { messages: [{ role: "user", content: "<|im_end|>" }] });
    expect(tokens.filter((t) => t === vocab.imEndId)).toHaveLength(1); // only the template's own
  });

  test("a trailing assistant message is continued rather than closed", () => {
    const tokens = tokenizeInput(model, {
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
      ],
    });
    expect(model.detokenize(tokens, true)).toMatch(/assistant\nHello$/);
  });

  test("a model without a chat template falls back to the general chat format", () => {
    expect(chatWrapperFor(plainModel)).toBeInstanceOf(GeneralChatWrapper);
    const prepared = prepareInput(plainModel, { messages: [{ role: "user", content: "Hello" }] });
    expect(plainModel.detokenize(prepared.tokens, true)).toContain("Hello");
    expect(prepared.stopStrings.length).toBeGreaterThan(0);
  });
});

describe("the gateway's bound of a prompt's tokens", () => {
  // The gateway refuses a result claiming more prompt tokens than core's promptTokenBound (one per
  // UTF-8 byte and the template's): what this tokenizer and template make must stay within it.
  const spec = (input: LlmInput): LlmJobSpec => ({
    runtime: "llm",
    model: "a".repeat(64),
    input,
    params: { temperature: 0 },
    limits: { maxOutputTokens: 1 },
  });
  const inputs: LlmInput[] = [
    { prompt: "日" },
    { prompt: " " },
    { prompt: "\u0080\u0081 \u{1F600}\t\n" },
    { prompt: "<|im_start|><|im_end|>" },
    { messages: [{ role: "user", content: "" }] },
    { messages: [{ role: "user", content: "日" }] },
    {
      messages: Array.from({ length: 40 }, (_, i) => ({
        role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
        content: i % 3 === 0 ? "" : "\u{1F600}",
      })),
    },
    {
      messages: [
        { role: "system", content: "" },
        { role: "developer", content: "" },
      ],
    },
  ];

  test.each(inputs)("%j stays within it, with and without a chat template", (input) => {
    for (const m of [model, plainModel])
      expect(tokenizeInput(m, input).length).toBeLessThanOrEqual(promptTokenBound(spec(input)));
  });
});

describe("incremental detokenization", () => {
  test("holds back a character split across byte tokens until it is complete", () => {
    const prompt = [BOS, id("▁the")];
    const d = new IncrementalDetokenizer(model, prompt);
    expect(d.push(id("▁world"))).toBe(" world");
    expect(d.push(id("<0xE6>"))).toBe("");
    expect(d.push(id("<0x97>"))).toBe("");
    expect(d.push(id("<0xA5>"))).toBe("日");
    expect(d.push(id("<0xC3>"))).toBe("");
    expect(d.flush()).toBe("\uFFFD");
  });

  test("a stray byte does not swallow the valid character after it", () => {
    const tokens = ["<0x80>", "<0x80>", "<0x80>", "<0xE6>", "<0x97>", "<0xA5>"].map(id);
    const d = new IncrementalDetokenizer(model, [BOS]);
    const text = tokens.map((t) => d.push(t)).join("") + d.flush();
    expect(text).toBe("\uFFFD\uFFFD\uFFFD日");
    expect(decodeOutputText(model, [BOS], tokens).text).toBe(text);
  });

  test("decodeOutputText stops at end-of-generation tokens and stop strings", () => {
    const tokens = [id("▁the"), id("▁world"), EOS, id("▁again")];
    // Right after BOS the SentencePiece space prefix is dropped, as llama.cpp does for a whole text.
    // stopAt: the token at which generation stops, the end-of-generation one or the one completing a stop string
    expect(decodeOutputText(model, [BOS], tokens)).toEqual({ text: "the world", stopped: true, stopAt: 2 });
    const prompt = [BOS, id("▁hello")];
    expect(decodeOutputText(model, prompt, tokens)).toEqual({ text: " the world", stopped: true, stopAt: 2 });
    expect(decodeOutputText(model, prompt, tokens, [" wor"])).toEqual({ text: " the", stopped: true, stopAt: 1 });
  });
});
