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
export { openStore } from "./open.js";
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
export type { AuditRow, UnbondingRow, VerdictRow, VerificationStore } from "./verification.js";
