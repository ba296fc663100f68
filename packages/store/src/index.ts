export {
  BATCH_STATUSES,
  type BatchEndpoint,
  type BatchFilePurpose,
  type BatchFileRecord,
  type BatchRecord,
  type BatchStatus,
  type BatchStore,
} from "./batches.js";
export type { ChainBinding, ChainBindingStore, PairTotal } from "./chain-bindings.js";
export type { ChainEvidenceStore, ChainResultRow, ChainSlashRow, ChainVerdictRow } from "./chain-evidence.js";
export type { ChainWithdrawalRow, ChainWithdrawalStore } from "./chain-withdrawals.js";
export { DatabaseHeld } from "./exclusive.js";
export type {
  ExplorerReads,
  FinishedWindow,
  HistoryBucket,
  JobPageQuery,
  JobSummary,
  LeaderRow,
  PostingRow,
  ProviderPageRow,
  ProviderSort,
  RegionRow,
} from "./explorer.js";
export { type OpenStoreOptions, openStore } from "./open.js";
export type { NodeRecordRow, ReputationStore } from "./reputation.js";
export type { SettlementStore, VoucherRow } from "./settlement.js";
export type {
  ApiKeyRecord,
  ConsumerRecord,
  JobQuery,
  OpResult,
  Posting,
  ProviderRecord,
  Store,
  WriteOp,
} from "./types.js";
export type {
  AuditCursor,
  AuditRow,
  OpenCanaryRow,
  UnbondingRow,
  VerdictRow,
  VerificationStore,
} from "./verification.js";
export type {
  AuditOutcomes,
  OpenUnbonding,
  ProviderAuditCounts,
  ProviderSlashes,
  SlashRow,
  VerificationReads,
} from "./verification-reads.js";
