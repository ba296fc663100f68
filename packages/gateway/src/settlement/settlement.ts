// One settlement interface for the gateway, with two implementations: the local ledger (local.ts,
// the default) and EVM contracts (evm.ts). The engine asks it to admit a submit before escrowing
// and tells it of every ledger event it committed; everything else is the backend's own business.
import type { JobRecord, LedgerEvent } from "@tessera/core";
import type { LeaseEvidence, ResultMessage } from "@tessera/protocol";
import type { ProviderSession } from "../engine/sessions.js";

export interface SettlementAccount {
  backend: "local" | "evm";
  consumerId: string;
  /** the chain address vouchers are signed as: custodial, or the consumer's own once bound (evm only) */
  address?: string;
  /** the consumer's balance in the Escrow contract (evm only) */
  deposit?: string;
  /** what new jobs may still escrow */
  headroom: string;
  /** requested back from the Escrow contract and not yet withdrawn (evm only) */
  pendingWithdrawal?: string;
  /** who signs this consumer's vouchers: the gateway as custodian, or the consumer's bound address (evm only) */
  signer?: "custodian" | "consumer";
  /** settled work not yet covered by the consumer's own vouchers (evm, signer consumer) */
  unsigned?: string;
}

export interface VoucherView {
  consumer: string;
  provider: string;
  cumulative: string;
  signature: string;
}

export interface Settlement {
  readonly backend: "local" | "evm";
  /** what clients need to find the contracts (evm) */
  info(): { backend: "local" | "evm"; chainId?: number; escrow?: string; token?: string };
  /** throws InsufficientBalance when the consumer cannot cover `amount` more of escrow */
  admit(consumerId: string, amount: bigint): Promise<void>;
  /** called after a job's ledger event (escrow, settle, refund) is durable; must not throw */
  committed(event: LedgerEvent, job: JobRecord): void;
  account(consumerId: string): Promise<SettlementAccount>;
  /** the provider's latest voucher per consumer (empty on the local ledger, which pays no vouchers) */
  vouchers(providerId: string): Promise<{ chainId: number; escrow: string; vouchers: VoucherView[] }>;
  stop(): Promise<void>;
  /** evm: the chain and Slashing contract results and verdicts are signed for (sent in each welcome) */
  welcomeChain?(): { chainId: number; slashing: string } | undefined;
  /** evm: what the provider's EIP-712 Result needs for this lease; undefined when it signs none */
  leaseEvidence?(job: JobRecord, session: ProviderSession): LeaseEvidence | undefined;
  /**
   * evm: checks the result's EIP-712 signature against the provider's registered address and
   * stores it with the job; returns why it is refused, or undefined to accept
   */
  acceptResult?(job: JobRecord, session: ProviderSession, msg: ResultMessage): Promise<string | undefined>;
}
