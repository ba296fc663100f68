export { BatchClient, type BatchPage, type BatchProgress, type BatchView, type FileView } from "./batches.js";
export { type ClientOptions, TesseraClient } from "./client.js";
// every view the client returns
export type * from "./types.js";
