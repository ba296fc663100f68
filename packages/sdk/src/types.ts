// Response shapes of the native API, as the gateway serves them (money as decimal strings).
import type { Constraints, JobOutput, JobSpec, JobStatus, Units } from "@tessera/protocol";

export interface JobView {
  id: string;
  object: "job";
  status: JobStatus;
  runtime: JobSpec["runtime"];
  model?: string;
  module?: string;
  class: "interactive" | "batch";
  spec: JobSpec;
  constraints: Constraints;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deadlineAt: number | null;
  attempts: number;
  maxAttempts: number;
  provider: string | null;
  pricePerUnit: number | null;
  escrow: string;
  cost: string | null;
  units: Units | null;
  output: JobOutput | null;
  outputHash: string | null;
  signature: string | null;
  error: string | null;
  idempotencyKey: string | null;
  trail?: {
    attempt: number;
    providerId: string;
    leasedAt: number;
    endedAt: number | null;
    outcome: string;
    reason: string | null;
  }[];
}

export interface ListPage<T> {
  object: "list";
  data: T[];
  hasMore?: boolean;
  nextCursor?: string | null;
}

export interface AccountView {
  id: string;
  unit: "nano-credits";
  balance: string;
  escrow: string;
  spent: string;
}

/** A custodial consumer's withdrawal from the Escrow contract (gateways settling on chain) */
export interface WithdrawalView {
  object: "withdrawal";
  id: string;
  /** requested (waiting out the contract's delay), withdrawn (from the Escrow), paid (sent to `to`) */
  status: string;
  amount: string;
  /** the consumer's custodial address */
  from: string;
  to: string;
  /** when the Escrow contract lets the withdrawal through (ms since the epoch) */
  readyAt: number;
  requestTx: string | null;
  withdrawTx: string | null;
  paid: string | null;
  transferTx: string | null;
  error: string | null;
  createdAt: number;
}

/** The consumer's account in the Escrow contract (gateways settling on chain) */
export interface SettlementAccountView {
  object: "settlement_account";
  address: string;
  deposit: string;
  headroom: string;
  [key: string]: unknown;
}

export interface SettlementInfo {
  object: "settlement";
  backend: "local" | "evm";
  chainId?: number;
  escrow?: string;
  token?: string;
}

export interface SettlementAddressView {
  object: "settlement_address";
  consumerId: string;
  /** the consumer's own bound address; null while the gateway signs as its custodian */
  address: string | null;
  signer: "custodian" | "consumer";
  /** what an address signs (EIP-191) to bind itself to this consumer (GET only) */
  message?: string;
}

/** A voucher the consumer owes one provider: sign `typedData` (cumulative as a decimal string). */
export interface VoucherDueView {
  object: "voucher_due";
  providerId: string;
  provider: string;
  cumulative: string;
  /** the latest cumulative already signed for this provider */
  signed: string;
  typedData: {
    domain: { name: string; version: string; chainId: number; verifyingContract: string };
    types: { Voucher: readonly { name: string; type: string }[] };
    primaryType: "Voucher";
    message: { consumer: string; provider: string; cumulative: string };
  };
}

export interface SignedVoucherView {
  object: "voucher";
  providerId: string;
  consumer: string;
  provider: string;
  cumulative: string;
  signature: string;
}

export interface ProviderInfo {
  id: string;
  region: string;
  runtimes: string[];
  models: { id: string; name: string; parameters: number }[];
  pricePerUnit: number;
  /** what a batch-class job pays here (the node's --batch-price, never above pricePerUnit) */
  batchPricePerUnit: number;
  capacity: number;
  throughput: number;
  /** standard units/s its latest capacity proof showed; null before one */
  provenThroughput: number | null;
  load: number;
  reputation: number;
  completed: number;
  failed: number;
  online: boolean;
  draining: boolean;
  /** online, but the gateway has read nothing from it for 2 heartbeat periods: leased nothing until heard */
  silent: boolean;
  firstSeenAt: number;
  lastSeenAt: number;
}

export interface LedgerReport {
  ok: boolean;
  netDeposited: string;
  internalTotal: string;
  problems: string[];
  accounts: Record<string, string>;
}
