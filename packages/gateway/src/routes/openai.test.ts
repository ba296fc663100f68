import { InvalidRequest, UnknownModel } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import type { RouteContext } from "./context.js";
import { toSpec } from "./openai.js";

// a gateway that serves no model: a request that passes every check on its fields is then a 404
const ctx = {
  engine: { models: new Map(), onlineSessions: () => [], eligible: () => true },
} as unknown as RouteContext;

function refusedParam(run: () => unknown): string | null | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof UnknownModel) return undefined;
    expect(err).toBeInstanceOf(InvalidRequest);
    return (err as InvalidRequest).toOpenAI().error.param;
  }
  throw new Error("accepted");
}

describe("logprobs on the OpenAI endpoints", () => {
  it("refuses /v1/completions' logprobs: 0, which still asks for the chosen tokens' logprobs", () => {
    for (const logprobs of [0, 1, 5])
      expect(refusedParam(() => toSpec(ctx, "completion", { model: "m", prompt: "x", logprobs }))).toBe("logprobs");
  });

  it("takes the values that ask for none: null on completions, false and null on chat", () => {
    expect(refusedParam(() => toSpec(ctx, "completion", { model: "m", prompt: "x", logprobs: null }))).toBeUndefined();
    for (const logprobs of [false, null])
      expect(
        refusedParam(() => toSpec(ctx, "chat", { model: "m", messages: [{ role: "user", content: "x" }], logprobs })),
      ).toBeUndefined();
    expect(
      refusedParam(() =>
        toSpec(ctx, "chat", { model: "m", messages: [{ role: "user", content: "x" }], logprobs: true }),
      ),
    ).toBe("logprobs");
  });
});
