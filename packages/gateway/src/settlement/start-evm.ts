// The EVM settlement backend's start-up: checks the chain and the deployment agree with the
// gateway before serving anything, so a wrong --rpc, --contracts or --fee-bps fails at start-up
// naming the flag; then mirrors the chain (chain-watch.ts) and signs vouchers (evm.ts).
import { dirname, join } from "node:path";
import { clientsFor, loadOrCreateEthKey, readDeployment, stakeOf } from "@tessera/chain";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import { createPublicClient, http } from "viem";
import { generatePrivateKey } from "viem/accounts";
import type { GatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import type { ChainVerification } from "../verification/chain.js";
import type { VerificationCoordinator } from "../verification/coordinator.js";
import { ChainSlasher } from "./chain-slasher.js";
import { ChainWatch, type UnmirroredRedemption } from "./chain-watch.js";
import { DEFAULT_CHAIN_CONFIRMATIONS, DEFAULT_VOUCHER_CREDIT } from "./config.js";
import { Custody } from "./custody.js";
import { ChainEvidence } from "./evidence.js";
import { EvmSettlement } from "./evm.js";
import { RegistryStakes } from "./registry-stakes.js";
import { SelfSignedVouchers } from "./self-signed.js";
import { CustodialWithdrawals } from "./withdrawals.js";

const isPostgres = (db: string) => /^postgres(ql)?:\/\//.test(db);

/**
 * Where the custody seed and the gateway's chain key live: the named files, else beside the SQLite
 * file. On PostgreSQL there is no such place, and a key made up at each start would put consumers'
 * deposits at addresses no later start holds keys for, so both flags are required there. With
 * :memory: a fresh key each start is kept: the store forgets every account and job at exit anyway.
 */
export function evmKeyFiles(config: GatewayConfig): { custody?: string; chain?: string } {
  const s = config.settlement;
  if (isPostgres(config.db)) {
    const missing = [s.custodyKeyFile ? "" : "--custody-key", s.chainKeyFile ? "" : "--chain-key"].filter(Boolean);
    if (missing.length > 0)
      throw new Error(
        `--settlement evm with a PostgreSQL --db needs ${missing.join(" and ")} <file>: there is no SQLite file to keep ` +
          "the key beside, and a new key at each start would strand consumers' deposits at addresses no one holds keys for",
      );
  }
  const beside = (name: string) =>
    config.db === ":memory:" || isPostgres(config.db) ? undefined : join(dirname(config.db), name);
  return { custody: s.custodyKeyFile ?? beside("custody.key"), chain: s.chainKeyFile ?? beside("gateway.eth.key") };
}

export interface RunningEvm {
  settlement: EvmSettlement;
  evm: EvmSettlement;
  /** hooks verification into the chain: registry stake, EIP-712 verdicts, slashes submitted */
  attach(coordinator: VerificationCoordinator): void;
  /** consumers' withdrawals through the custodian */
  withdrawals: CustodialWithdrawals;
  /** consumers who bound their own address and sign their own vouchers */
  selfSigned: SelfSignedVouchers;
  /** nodes' ProviderRegistry stake, cached for the explorer */
  stakes: RegistryStakes;
  /** Redeemed logs the ledger has not mirrored yet (each logged as an error; retried on every poll) */
  unmirrored(): UnmirroredRedemption[];
  stop(): Promise<void>;
}

export async function startEvmSettlement(
  engine: Engine,
  store: Store,
  config: GatewayConfig,
  log: Logger,
): Promise<RunningEvm> {
  const s = config.settlement;
  const keys = evmKeyFiles(config);
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
  const confirmations = s.confirmations ?? DEFAULT_CHAIN_CONFIRMATIONS;
  const custody = Custody.open(keys.custody);
  const selfSigned = new SelfSignedVouchers({
    store,
    deployment,
    log,
    creditLimit: BigInt(s.voucherCredit ?? DEFAULT_VOUCHER_CREDIT),
  });
  await selfSigned.load();
  const evidence = new ChainEvidence({
    store,
    deployment,
    custody,
    ownAddress: (consumerId) => selfSigned.addressOf(consumerId),
  });
  const evm = new EvmSettlement({
    store,
    writer: engine.writer,
    client,
    deployment,
    custody,
    evidence,
    selfSigned,
    log,
    confirmations,
  });
  const watch = new ChainWatch({ store, writer: engine.writer, client, deployment, evm, log, confirmations });
  watch.start(s.pollMs);
  engine.settlement = evm;
  const clients = await clientsFor(
    s.rpc ?? "",
    keys.chain ? loadOrCreateEthKey(keys.chain).privateKey : generatePrivateKey(),
  );
  let coordinator: VerificationCoordinator | undefined;
  // the gateway's account sends slashes, disputes and gas top-ups: one at a time, so nonces never clash
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(f: () => Promise<T>): Promise<T> => {
    const run = tail.then(f, f);
    tail = run.catch(() => {});
    return run;
  };
  const slasher = new ChainSlasher({
    store,
    writer: engine.writer,
    clients,
    deployment,
    log,
    onSlashed: (providerId, taken) => coordinator?.slashedOnChain(providerId, taken),
    exclusive,
  });
  slasher.start(Math.max(1_000, s.pollMs));
  const withdrawals = new CustodialWithdrawals({
    store,
    writer: engine.writer,
    rpc: s.rpc ?? "",
    clients,
    deployment,
    custody,
    evm,
    log,
    exclusive,
  });
  withdrawals.start(Math.max(1_000, s.pollMs));
  log.info(
    {
      chainId,
      escrow: deployment.escrow,
      slashing: deployment.slashing,
      rpc: s.rpc,
      confirmations,
      account: clients.wallet.account.address,
    },
    "settling on chain",
  );
  // the scheduler's refresh of connected nodes keeps these fresh; the explorer reads the rest at most every 2 s;
  // both at head − confirmations, as the chain mirror reads deposits
  const stakes = new RegistryStakes({
    read: (address, at) => stakeOf(clients, deployment.registry, address, at),
    // uncached: viem would answer a head up to pollingInterval old; concurrent reads share one anyway
    head: () => client.getBlockNumber({ cacheTime: 0 }),
    confirmations,
    ttlMs: 2_000,
  });
  const chain: ChainVerification = {
    stakeOf: async (address) => (await stakes.fresh(address)).bonded,
    verifierMinStake: deployment.params.minStake,
    auditEvidence: (job) => evidence.auditEvidence(job),
    acceptVerdict: (auditId, job, session, msg) => evidence.acceptVerdict(auditId, job, session, msg),
    slashed: (auditId, job) => slasher.enqueue(auditId, job),
    disputed: (auditId, job, verifierId) => slasher.dispute(auditId, job, verifierId),
  };
  return {
    settlement: evm,
    evm,
    withdrawals,
    selfSigned,
    stakes,
    unmirrored: () => watch.unmirrored(),
    attach(c) {
      coordinator = c;
      c.chain = chain;
    },
    async stop() {
      await watch.stop();
      await slasher.stop();
      await withdrawals.stop();
      await evm.stop();
    },
  };
}
