import { describe, expect, it } from "vitest";
import { ConsumerSlots } from "./slots.js";

describe("ConsumerSlots", () => {
  it("a waiter whose signal aborts gives up without a slot, and the freed slot goes to the next waiter", async () => {
    const slots = new ConsumerSlots(1);
    expect(await slots.acquire("c")).toBe(true);
    const stop = new AbortController();
    const stopped = slots.acquire("c", stop.signal);
    const other = slots.acquire("c");
    stop.abort();
    expect(await stopped).toBe(false);
    slots.release("c");
    expect(await other).toBe(true);
    expect(slots.inUse("c")).toBe(1);
    slots.release("c");
    expect(slots.inUse("c")).toBe(0);
  });

  it("takes no slot for an already-aborted signal, even with slots free", async () => {
    const slots = new ConsumerSlots(2);
    expect(await slots.acquire("c", AbortSignal.abort())).toBe(false);
    expect(slots.inUse("c")).toBe(0);
  });
});
