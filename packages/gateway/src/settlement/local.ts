// The local ledger as a settlement backend: the store's commit already refuses an escrow the
// consumer's available balance cannot cover, so admission adds nothing; settled earnings of a
// provider that issued node shares flow on to its holders (shares.ts).
import { accounts, type JobRecord, type LedgerEvent } from "@tessera/core";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { Settlement, SettlementAccount } from "./settlement.js";
import type { NodeSharesService } from "./shares.js";

export class LocalSettlement implements Settlement {
  readonly backend = "local" as const;

  constructor(
    private readonly store: Store,
    private readonly shares: NodeSharesService,
    private readonly log: Logger,
  ) {}

  info() {
    return { backend: this.backend };
  }

  async admit(): Promise<void> {}

  committed(event: LedgerEvent, job: JobRecord): void {
    if (event.kind !== "settle" || !job.providerId) return;
    const earned = event.transfers
      .filter((t) => t.to === accounts.earnings(job.providerId ?? ""))
      .reduce((s, t) => s + t.amount, 0n);
    if (earned > 0n)
      this.shares
        .onEarnings(job.providerId, job.id, earned)
        .catch((err) =>
          this.log.error({ err, jobId: job.id, providerId: job.providerId }, "share distribution failed"),
        );
  }

  async account(consumerId: string): Promise<SettlementAccount> {
    return {
      backend: "local",
      consumerId,
      headroom: (await this.store.balance(accounts.available(consumerId))).toString(),
    };
  }

  async vouchers(): Promise<{ chainId: number; escrow: string; vouchers: [] }> {
    return { chainId: 0, escrow: "", vouchers: [] };
  }

  async stop(): Promise<void> {}
}
