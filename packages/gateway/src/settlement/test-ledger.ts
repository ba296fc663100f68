// Test helper: the ledger events of a job escrowed for exactly its cost and settled to a provider.
import { escrowEvent, type LedgerEvent, settleEvent } from "@tessera/core";

export function settledJob(job: {
  jobId: string;
  consumerId: string;
  providerId: string;
  cost: bigint;
  feeBps: number;
  at: number;
}): LedgerEvent[] {
  const { jobId, consumerId, providerId, cost, feeBps, at } = job;
  return [
    escrowEvent(jobId, consumerId, cost, at),
    settleEvent({ jobId, consumerId, providerId, escrowed: cost, cost, feeBps, at }),
  ];
}
