// Group commit: every write the engine makes goes through this queue, and all writes that
// arrive while a commit is in flight go to the store together in the next transaction. One
// fsync-bound transaction then carries many jobs, which is where the gateway's throughput comes from.
import type { OpResult, Store, WriteOp } from "@tessera/store";

interface Pending {
  op: WriteOp;
  resolve: (r: OpResult) => void;
  reject: (e: unknown) => void;
}

export class GroupWriter {
  private pending: Pending[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly maxBatch = 500,
    private readonly onFatal: (e: unknown) => void = () => {},
  ) {}

  write(op: WriteOp): Promise<OpResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      this.schedule();
    });
  }

  /** Waits until everything written so far is committed. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          const results = await this.store.commit(batch.map((p) => p.op));
          for (const [i, p] of batch.entries()) p.resolve(results[i]!);
        } catch (e) {
          for (const p of batch) p.reject(e);
          this.onFatal(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
