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
    expect(describeFailure("plain words")).toEqual({ code: "failed", message: "plain words" });
    const reverted = Object.assign(new Error("The contract function reverted.\n\nContract Call: …\nDocs: …"), {
      shortMessage: 'The contract function "stake" reverted with: BelowMinStake',
    });
    expect(describeFailure(reverted).message).toBe('The contract function "stake" reverted with: BelowMinStake');
  });

  // --json printed "code": null for every failure that was not a gateway refusal (the chain
  // commands' flags, an RPC that does not answer, a contract that refused)
  it("gives every failure a code: a flag's mistake, an unreachable chain, anything else", () => {
    expect(describeFailure(new Error("--amount must be a positive integer"))).toEqual({
      code: "invalid_argument",
      message: "--amount must be a positive integer",
    });
    expect(describeFailure("--amount must be a positive integer").code).toBe("invalid_argument");
    // viem's HttpRequestError over undici's "fetch failed", as `chain stake --rpc` with nothing there
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const rpc = Object.assign(new Error("HTTP request failed.\n\nURL: http://127.0.0.1:1\nVersion: viem"), {
      name: "HttpRequestError",
      shortMessage: "HTTP request failed.",
      url: "http://127.0.0.1:1",
      cause: new TypeError("fetch failed", { cause: refused }),
    });
    expect(describeFailure(rpc)).toEqual({
      code: "rpc_unreachable",
      message: "cannot reach the chain at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1",
    });
    // wrapped by the call that made the request
    const call = Object.assign(new Error("The contract function failed"), {
      shortMessage: "The contract function failed",
      cause: rpc,
    });
    expect(describeFailure(call).code).toBe("rpc_unreachable");
    const other = Object.assign(new Error("Execution reverted for an unknown reason."), {
      shortMessage: "Execution reverted for an unknown reason.",
    });
    expect(describeFailure(other).code).toBe("chain_error");
    expect(describeFailure(new Error("something else")).code).toBe("failed");
  });
});
