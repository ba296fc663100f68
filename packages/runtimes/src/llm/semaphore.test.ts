import { describe, expect, test } from "vitest";
import { Semaphore } from "./semaphore.js";

describe("Semaphore", () => {
  test("never lets more than its size run at once", async () => {
    const sem = new Semaphore(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const release = await sem.acquire();
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        release();
      }),
    );
    expect(peak).toBe(2);
  });

  test("a waiter whose signal aborts gives up without taking a permit", async () => {
    const sem = new Semaphore(1);
    const release = await sem.acquire();
    const ac = new AbortController();
    const waiting = sem.acquire(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    release();
    const again = await sem.acquire();
    again();
  });
});
