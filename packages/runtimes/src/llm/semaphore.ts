// Caps how many jobs run at once; waiting can be abandoned through an AbortSignal so a cancelled
// job never takes a slot.
import { AbortError } from "./abort.js";

export class Semaphore {
  private waiters: Array<() => void> = [];
  private free: number;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError("semaphore size must be a positive integer");
    this.free = size;
  }

  /** Resolves with a release function once a permit is held. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new AbortError();
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== grant);
        reject(new AbortError());
      };
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // hand the permit straight to the next waiter, so it cannot be stolen in between
      if (next) next();
      else this.free++;
    };
  }
}
