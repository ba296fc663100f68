import { describe, expect, test } from "vitest";
import { llmStandardUnits } from "./units.js";

describe("llmStandardUnits", () => {
  test("is ceil(2 x parameters x tokens / 1e6)", () => {
    expect(llmStandardUnits(1_437_312, 0)).toBe(0);
    expect(llmStandardUnits(500_000, 1)).toBe(1);
    expect(llmStandardUnits(500_001, 1)).toBe(2);
    expect(llmStandardUnits(1_437_312, 204)).toBe(Math.ceil((2 * 1_437_312 * 204) / 1e6));
  });

  test("stays exact where floats would round (70B parameters x 32k tokens)", () => {
    const expected = (2n * 70_000_000_001n * 32_768n + 999_999n) / 1_000_000n;
    expect(llmStandardUnits(70_000_000_001, 32_768)).toBe(Number(expected));
  });

  test("rejects non-integer or negative inputs", () => {
    expect(() => llmStandardUnits(1.5, 1)).toThrow(RangeError);
    expect(() => llmStandardUnits(1, -1)).toThrow(RangeError);
  });
});
