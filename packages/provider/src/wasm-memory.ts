// The provider's WASM memory budget, shared by its leased jobs and its audits: a job reserves its
// memory limit before it runs and returns it when it ends, and jobs that do not fit wait, in the
// order they asked, for memory to free (the decisions are wasm-budget.ts's).
import { admissible, fitsBudget, overBudgetReason } from "./wasm-budget.js";

interface Waiter {
  mb: number;
  grant: (release: () => void) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

export interface WasmMemoryStats {
  budgetMb: number;
  /** sum of the memory limits of the WASM jobs running now */
  inUseMb: number;
  /** the most inUseMb has been */
  peakMb: number;
  /** jobs waiting for memory */
  waiting: number;
}

export class WasmMemoryBudget {
  private inUseMb = 0;
  private peakMb = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly budgetMb: number) {
    if (!Number.isInteger(budgetMb) || budgetMb < 1) {
      throw new RangeError(`wasm memory budget must be a positive whole number of MiB, got ${budgetMb}`);
    }
  }

  /** Whether a job with this limit can ever run here; when not, why (names the budget). */
  refusal(mb: number): string | undefined {
    return fitsBudget(mb, this.budgetMb) ? undefined : overBudgetReason(mb, this.budgetMb);
  }

  /** Whether a reservation of `mb` made now would have to wait. */
  mustWait(mb: number): boolean {
    return admissible(this.budgetMb, this.inUseMb, [...this.queue, { mb }]) < this.queue.length + 1;
  }

  /**
   * Reserves `mb` MiB, waiting behind earlier reservations until it fits. Resolves with the
   * function that gives it back (once, however often called); rejects with the signal's reason
   * when aborted before the memory was granted, and at once for more than the whole budget.
   */
  reserve(mb: number, signal: AbortSignal): Promise<() => void> {
    const refusal = this.refusal(mb);
    if (refusal) return Promise.reject(new Error(refusal));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((grant, reject) => {
      const waiter: Waiter = {
        mb,
        grant,
        reject,
        signal,
        onAbort: () => {
          const i = this.queue.indexOf(waiter);
          if (i < 0) return;
          this.queue.splice(i, 1);
          reject(signal.reason);
          // it may have been the one holding the others back
          this.admit();
        },
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.admit();
    });
  }

  stats(): WasmMemoryStats {
    return { budgetMb: this.budgetMb, inUseMb: this.inUseMb, peakMb: this.peakMb, waiting: this.queue.length };
  }

  private admit(): void {
    const n = admissible(this.budgetMb, this.inUseMb, this.queue);
    for (const waiter of this.queue.splice(0, n)) {
      waiter.signal.removeEventListener("abort", waiter.onAbort);
      this.inUseMb += waiter.mb;
      this.peakMb = Math.max(this.peakMb, this.inUseMb);
      let returned = false;
      waiter.grant(() => {
        if (returned) return;
        returned = true;
        this.inUseMb -= waiter.mb;
        this.admit();
      });
    }
  }
}
