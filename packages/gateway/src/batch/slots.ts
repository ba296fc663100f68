// How many lines of one consumer's batches may be in the job queue (queued or running) at once.
// Bounds the gateway's memory for any batch size, and keeps one consumer's 100,000-line batch
// from filling the queue ahead of everyone else's work.
export class ConsumerSlots {
  private readonly used = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  /**
   * Takes a slot, waiting for one while the consumer has none free. False when `signal` aborts
   * first (the batch stopped): no slot is held then, and nothing is to be released.
   */
  async acquire(consumerId: string, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    const n = this.used.get(consumerId) ?? 0;
    if (n < this.limit) {
      this.used.set(consumerId, n + 1);
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const waiter = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      };
      const onAbort = () => {
        const list = this.waiters.get(consumerId);
        const i = list?.indexOf(waiter) ?? -1;
        if (i !== -1) list?.splice(i, 1);
        if (list?.length === 0) this.waiters.delete(consumerId);
        resolve(false);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const list = this.waiters.get(consumerId);
      if (list) list.push(waiter);
      else this.waiters.set(consumerId, [waiter]);
    });
  }

  /** Hands the slot straight to the next waiter of the same consumer, if any. */
  release(consumerId: string): void {
    const next = this.waiters.get(consumerId)?.shift();
    if (next) {
      next();
      return;
    }
    const n = (this.used.get(consumerId) ?? 1) - 1;
    if (n <= 0) this.used.delete(consumerId);
    else this.used.set(consumerId, n);
    if (this.waiters.get(consumerId)?.length === 0) this.waiters.delete(consumerId);
  }

  inUse(consumerId: string): number {
    return this.used.get(consumerId) ?? 0;
  }
}
