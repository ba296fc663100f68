import { describe, expect, it } from "vitest";
import { LruMap } from "./lru.js";

describe("LruMap", () => {
  it("evicts the least recently used entry past its capacity", () => {
    const lru = new LruMap<string, number>(2);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.get("a"); // a is now younger than b
    lru.set("c", 3);
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")).toBe(1);
    expect(lru.get("c")).toBe(3);
    expect(lru.size).toBe(2);
  });
});

describe("LruMap by weight", () => {
  it("evicts the least recently used entries until the total weight fits", () => {
    const lru = new LruMap<string, string>({ capacity: 64, maxWeight: 100 });
    lru.set("a", "A", 40);
    lru.set("b", "B", 40);
    lru.get("a"); // a is now younger than b
    lru.set("c", "C", 40);
    expect(lru.get("b")).toBeUndefined();
    expect([lru.get("a"), lru.get("c")]).toEqual(["A", "C"]);
    expect(lru.weight).toBe(80);
  });

  it("evicts when an entry's weight becomes known later", () => {
    const lru = new LruMap<string, string>({ capacity: 64, maxWeight: 100 });
    lru.set("a", "A");
    lru.set("b", "B");
    expect(lru.reweigh("a", 60)).toBe(true);
    expect(lru.reweigh("b", 60)).toBe(true);
    expect(lru.get("a")).toBeUndefined();
    expect(lru.get("b")).toBe("B");
    expect(lru.weight).toBe(60);
    expect(lru.reweigh("a", 1)).toBe(false);
  });

  it("keeps no entry heavier than the whole budget, and evicts nothing else for it", () => {
    const lru = new LruMap<string, string>({ capacity: 64, maxWeight: 100 });
    lru.set("small", "s", 10);
    lru.set("huge", "h", 101);
    expect(lru.get("huge")).toBeUndefined();
    expect(lru.get("small")).toBe("s");
    expect(lru.weight).toBe(10);
  });
});
