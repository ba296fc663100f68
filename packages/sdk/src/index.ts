export { BatchClient, type BatchProgress, type BatchView, type FileView } from "./batches.js";
export { type ClientOptions, TesseraClient } from "./client.js";
export type {
  AccountView,
  JobView,
  LedgerReport,
  ListPage,
  ProviderInfo,
  SettlementAccountView,
  WithdrawalView,
} from "./types.js";
