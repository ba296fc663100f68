import { describe, expect, it } from "vitest";
import { blockedByOwnOperator } from "./assignable.js";

describe("audits blocked by the provider's own operator label", () => {
  it("only when verifiers serve the job and all are of the provider's operator", () => {
    expect(blockedByOwnOperator("op-v", ["op-v"])).toBe(true);
    expect(blockedByOwnOperator("op-v", ["op-v", "op-v"])).toBe(true);
    expect(blockedByOwnOperator("op-v", ["op-v", "op-w"])).toBe(false);
    // no verifier serving it online: an outage, not the provider's doing
    expect(blockedByOwnOperator("op-v", [])).toBe(false);
  });
});
