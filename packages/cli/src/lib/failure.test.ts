import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeFailure } from "./failure.js";

describe("describeFailure", () => {
  it("says which gateway could not be reached and why, instead of 'fetch failed'", () => {
    const e = new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") });
    expect(describeFailure(e)).toEqual({
      code: "unreachable",
      message: "cannot reach the gateway: connect ECONNREFUSED 127.0.0.1:9",
    });
  });

  it("keeps a gateway refusal's code and names a validation failure's field", () => {
    const refusal = Object.assign(new Error("Insufficient balance"), { code: "insufficient_quota", status: 402 });
    expect(describeFailure(refusal)).toEqual({ code: "insufficient_quota", message: "Insufficient balance" });
    const invalid = z.object({ gateway: z.string().url() }).safeParse({ gateway: "nope" });
    expect(invalid.success).toBe(false);
    expect(describeFailure(invalid.error).message).toMatch(/^gateway: /);
    expect(describeFailure("plain words")).toEqual({ code: null, message: "plain words" });
    const reverted = Object.assign(new Error("The contract function reverted.\n\nContract Call: …\nDocs: …"), {
      shortMessage: 'The contract function "stake" reverted with: BelowMinStake',
    });
    expect(describeFailure(reverted).message).toBe('The contract function "stake" reverted with: BelowMinStake');
  });
});
