export { TesseraClient, type ClientOptions } from "./client.js";
export type { JobView, ListPage, AccountView, ProviderInfo, LedgerReport } from "./types.js";
