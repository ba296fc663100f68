// How many lines of one consumer's batches may be in the job queue (queued or running) at once.
// Bounds the gateway's memory for any batch size, and keeps one consumer's 100,000-line batch
// from filling the queue ahead of everyone else's work.
export class ConsumerSlots {
  private readonly used = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  async acquire(consumerId: string): Promise<void> {
    const n = this.used.get(consumerId) ?? 0;
    if (n < this.limit) {
      this.used.set(consumerId, n + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const list = this.waiters.get(consumerId);
      if (list) list.push(resolve);
      else this.waiters.set(consumerId, [resolve]);
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
