export { BatchClient, type BatchProgress, type BatchView, type FileView } from "./batches.js";
export { type ClientOptions, TesseraClient } from "./client.js";
export type {
  AccountView,
  JobView,
  LedgerReport,
  ListPage,
  ProviderInfo,
  SettlementAccountView,
  SettlementAddressView,
  SettlementInfo,
  SignedVoucherView,
  VoucherDueView,
  WithdrawalView,
} from "./types.js";
