import { describe, expect, it } from "vitest";
import { AmountSchema, MAX_SUPPLY } from "./units.js";

describe("AmountSchema", () => {
  it("takes positive decimal integers up to the ledger's supply", () => {
    expect(AmountSchema.parse("1")).toBe("1");
    expect(AmountSchema.parse(MAX_SUPPLY.toString())).toBe(MAX_SUPPLY.toString());
  });

  it("refuses anything else with an issue, never by throwing", () => {
    for (const bad of ["1e3", "1.5", "ten", "abc", "0x10", "007", "0", "-5", "", (MAX_SUPPLY + 1n).toString()]) {
      const r = AmountSchema.safeParse(bad);
      expect(r.success, bad).toBe(false);
    }
  });
});
