// Runs async tasks one at a time per key: a task that reads balances and then posts from them must
// not interleave with another such task on the same accounts, or the second posts from stale reads.

export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(task, task);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    // the map keeps no key whose queue has emptied
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
