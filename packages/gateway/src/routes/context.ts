// What every route module gets: the engine, the store and the helpers around them.
import type { Identity } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { Authenticator } from "../auth.js";
import type { GatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import type { Metrics } from "../metrics.js";
import type { RegistryStakes } from "../settlement/registry-stakes.js";

export interface RouteContext {
  engine: Engine;
  store: Store;
  auth: Authenticator;
  config: GatewayConfig;
  identity: Identity;
  metrics: Metrics;
  log: Logger;
  /** per-node reputation and proven capacity (verification/coordinator.ts), once verification started */
  verification?: {
    reputationOf(nodeId: string): number;
    provenThroughput(nodeId: string): number | null;
    isExcluded(nodeId: string): boolean;
  };
  /** --settlement evm: bonded and unbonding stake in ProviderRegistry by eth address, cached */
  chainStakes?: RegistryStakes;
}
