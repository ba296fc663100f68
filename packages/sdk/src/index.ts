export { type ClientOptions, TesseraClient } from "./client.js";
export type { AccountView, JobView, LedgerReport, ListPage, ProviderInfo } from "./types.js";
