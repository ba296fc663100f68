// Builds the configured settlement backend and hooks it into the engine. The EVM backend (viem,
// contract bindings) is loaded only when configured: a local-ledger gateway never pays its memory.
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { GatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import type { VerificationCoordinator } from "../verification/coordinator.js";
import type { UnmirroredRedemption } from "./chain-watch.js";
import type { EvmSettlement } from "./evm.js";
import { LocalSettlement } from "./local.js";
import type { RegistryStakes } from "./registry-stakes.js";
import type { SelfSignedVouchers } from "./self-signed.js";
import type { Settlement } from "./settlement.js";
import { NodeSharesService } from "./shares.js";
import type { CustodialWithdrawals } from "./withdrawals.js";

export interface RunningSettlement {
  settlement: Settlement;
  shares: NodeSharesService;
  /** present with --settlement evm */
  evm?: EvmSettlement;
  /** --settlement evm: hooks verification into the chain (stake, evidence, slashes) */
  attach?(coordinator: VerificationCoordinator): void;
  /** --settlement evm: consumers' withdrawals through the custodian */
  withdrawals?: CustodialWithdrawals;
  /** --settlement evm: consumers who sign their own vouchers */
  selfSigned?: SelfSignedVouchers;
  /** --settlement evm: nodes' ProviderRegistry stake, cached */
  stakes?: RegistryStakes;
  /** --settlement evm: Redeemed logs the ledger has not mirrored yet (retried on every poll) */
  unmirrored?(): UnmirroredRedemption[];
  stop(): Promise<void>;
}

export async function startSettlement(
  engine: Engine,
  store: Store,
  config: GatewayConfig,
  log: Logger,
): Promise<RunningSettlement> {
  const shares = new NodeSharesService(store, engine.writer);
  const s = config.settlement;
  if (s.kind === "local") {
    const settlement = new LocalSettlement(store, shares, log);
    engine.settlement = settlement;
    const recovered = await shares.recover();
    if (recovered > 0) log.warn({ jobs: recovered }, "share distributions a stop had left undone, posted");
    return { settlement, shares, stop: () => settlement.stop() };
  }
  const { startEvmSettlement } = await import("./start-evm.js");
  const evm = await startEvmSettlement(engine, store, config, log);
  return { ...evm, shares };
}
