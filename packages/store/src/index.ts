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
