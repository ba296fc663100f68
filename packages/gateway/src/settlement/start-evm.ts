// The EVM settlement backend's start-up: checks the chain and the deployment agree with the
// gateway before serving anything, so a wrong --rpc, --contracts or --fee-bps fails at start-up
// naming the flag; then mirrors the chain (chain-watch.ts) and signs vouchers (evm.ts).
import { dirname, join } from "node:path";
import { readDeployment } from "@tessera/chain";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import { createPublicClient, http } from "viem";
import type { GatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import { ChainWatch } from "./chain-watch.js";
import { Custody } from "./custody.js";
import { EvmSettlement } from "./evm.js";

function custodyFile(config: GatewayConfig): string | undefined {
  if (config.settlement.custodyKeyFile) return config.settlement.custodyKeyFile;
  if (config.db === ":memory:" || /^postgres(ql)?:\/\//.test(config.db)) return undefined;
  return join(dirname(config.db), "custody.key");
}

export async function startEvmSettlement(
  engine: Engine,
  store: Store,
  config: GatewayConfig,
  log: Logger,
): Promise<{ settlement: EvmSettlement; evm: EvmSettlement; stop(): Promise<void> }> {
  const s = config.settlement;
  const deployment = readDeployment(s.contracts ?? "");
  const client = createPublicClient({ transport: http(s.rpc, { retryCount: 2 }), pollingInterval: 100 });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (e) {
    throw new Error(`--rpc ${s.rpc}: cannot reach the chain (${(e as Error).message.split("\n")[0]})`);
  }
  if (chainId !== deployment.chainId)
    throw new Error(
      `--contracts ${s.contracts} is for chain ${deployment.chainId} but --rpc ${s.rpc} is chain ${chainId}`,
    );
  if ((await client.getCode({ address: deployment.escrow })) === undefined)
    throw new Error(`--contracts ${s.contracts}: no Escrow contract at ${deployment.escrow} on chain ${chainId}`);
  if (deployment.params.feeBps !== config.feeBps)
    throw new Error(
      `--fee-bps ${config.feeBps} differs from the Escrow contract's fee of ${deployment.params.feeBps} bps`,
    );
  const evm = new EvmSettlement({
    store,
    writer: engine.writer,
    client,
    deployment,
    custody: Custody.open(custodyFile(config)),
    log,
  });
  const watch = new ChainWatch({ store, writer: engine.writer, client, deployment, evm, log });
  watch.start(s.pollMs);
  engine.settlement = evm;
  log.info({ chainId, escrow: deployment.escrow, rpc: s.rpc }, "settling on chain");
  return {
    settlement: evm,
    evm,
    async stop() {
      await watch.stop();
      await evm.stop();
    },
  };
}
