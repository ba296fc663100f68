import { describe, expect, test } from "vitest";
import { StopScanner } from "./stop-scanner.js";

function run(stops: string[], pieces: string[]) {
  const s = new StopScanner(stops);
  const emitted: string[] = [];
  for (const p of pieces) {
    const r = s.push(p);
    emitted.push(r.emit);
    if (r.stopped) return { emitted, stopped: true };
  }
  emitted.push(s.flush());
  return { emitted, stopped: false };
}

describe("StopScanner", () => {
  test("cuts the text right before a stop string split across pieces", () => {
    const r = run(["END"], ["hello E", "N", "D tail"]);
    expect(r.stopped).toBe(true);
    expect(r.emitted.join("")).toBe("hello ");
  });

  test("holds back a possible stop prefix and releases it once it cannot match", () => {
    const s = new StopScanner(["END"]);
    expect(s.push("abc E").emit).toBe("abc ");
    expect(s.push("N").emit).toBe("");
    expect(s.push("x").emit).toBe("ENx");
  });

  test("stops at the earliest of several stop strings", () => {
    expect(run(["zz", "b"], ["aab zz"]).emitted.join("")).toBe("aa");
  });

  test("flushes everything when no stop string occurs", () => {
    const r = run(["###"], ["one #", "two ##"]);
    expect(r.stopped).toBe(false);
    expect(r.emitted.join("")).toBe("one #two ##");
  });

  test("passes text straight through without stop strings", () => {
    expect(run([], ["a", "b"]).emitted).toEqual(["a", "b", ""]);
  });
});
