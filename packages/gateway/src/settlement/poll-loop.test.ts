import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { PollLoop } from "./poll-loop.js";

describe("PollLoop", () => {
  it("runs passes one after another, keeps going after a failure, and runs none after stop()", async () => {
    let passes = 0;
    let inFlight = 0;
    let overlapped = false;
    const errors: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const loop = new PollLoop(
      async () => {
        overlapped ||= inFlight > 0;
        inFlight++;
        passes++;
        try {
          if (passes === 2) throw new Error("rpc down");
          if (passes === 4) await gate; // stop() arrives while this pass is in flight
        } finally {
          inFlight--;
        }
      },
      (err) => errors.push(err),
    );
    loop.start(1);
    while (passes < 4) await sleep(1);
    const stopped = loop.stop();
    release();
    await stopped;
    const after = passes;
    await sleep(30);
    expect(passes).toBe(after);
    expect(after).toBe(4);
    expect(overlapped).toBe(false);
    expect(errors).toHaveLength(1);
  });
});
