// Account names of the local ledger. `external` is the outside world: deposits come from it
// and withdrawals go to it, so it is the only account allowed below zero.
export const EXTERNAL = "external";
export const FEES = "protocol:fees";

export const accounts = {
  available: (consumerId: string) => `consumer:${consumerId}:available`,
  escrow: (consumerId: string) => `consumer:${consumerId}:escrow`,
  earnings: (providerId: string) => `provider:${providerId}:earnings`,
  /** tokens at a consumer's custodial chain address outside the Escrow contract (slash refunds) */
  wallet: (consumerId: string) => `consumer:${consumerId}:wallet`,
} as const;
