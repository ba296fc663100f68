import { ChatCompletionRequestSchema, CompletionRequestSchema, InvalidRequest } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { parse } from "./errors.js";

/** the 400 a request body gets: its message and the param it names */
function refusal(schema: Parameters<typeof parse>[0], body: unknown): { message: string; param: string | null } {
  try {
    parse(schema, body);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequest);
    const e = (err as InvalidRequest).toOpenAI().error;
    return { message: e.message, param: e.param };
  }
  throw new Error("the body was accepted");
}

const chat = (extra: object) => ({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra });

describe("a field that takes one of several shapes says what is wrong with the one sent", () => {
  it("five stop strings: the list is too long, not merely 'Invalid input'", () => {
    const r = refusal(ChatCompletionRequestSchema, chat({ stop: ["a", "b", "c", "d", "e"] }));
    expect(r.param).toBe("stop");
    expect(r.message).toMatch(/4/);
  });

  it("an image content part: names the part's type and says only text is taken", () => {
    const r = refusal(
      ChatCompletionRequestSchema,
      chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] }),
    );
    expect(r.param).toBe("messages.0.content.0.type");
    expect(r.message).toMatch(/only text content parts/);
  });

  it("a prompt list of two: one prompt per request", () => {
    const r = refusal(CompletionRequestSchema, { model: "m", prompt: ["a", "b"] });
    expect(r.param).toBe("prompt");
    expect(r.message).toMatch(/one text prompt per request/);
  });

  it("a prompt of token ids: says token ids are not taken", () => {
    expect(refusal(CompletionRequestSchema, { model: "m", prompt: [[1, 2]] })).toEqual({
      param: "prompt.0",
      message: "prompt.0: a prompt is text: token-id prompts are not supported",
    });
    expect(refusal(CompletionRequestSchema, { model: "m", prompt: [1, 2, 3] }).message).toMatch(/token-id/);
  });

  it("a value of none of the shapes keeps the union's own message", () => {
    const r = refusal(ChatCompletionRequestSchema, chat({ stop: 5 }));
    expect(r.param).toBe("stop");
    expect(r.message).toMatch(/^stop: /);
  });
});
