// An operator request that names its own id (a deposit, a stake, an unbond) may be sent again: the
// ledger applies an event id once, so a resend moves no money. It is answered as a success only
// when it repeats the stored event; the same id with other accounts or amounts is a conflict.
import type { LedgerEvent } from "@tessera/core";
import type { Store } from "@tessera/store";

/** Whether the stored event of this id moved exactly these transfers. */
export async function repeatsStoredEvent(store: Store, event: LedgerEvent): Promise<boolean> {
  const stored = await store.postings({ eventId: event.id, limit: event.transfers.length + 1 });
  return (
    stored.length === event.transfers.length &&
    event.transfers.every((t) => stored.some((p) => p.from === t.from && p.to === t.to && p.amount === t.amount))
  );
}
