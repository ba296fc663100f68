// The provider daemon: wires identity, blob cache, runtimes, the job runner and the gateway
// connection together, and owns the order in which they start and stop.
import { join } from "node:path";
import {
  type Capabilities,
  CapabilitiesSchema,
  type CapacityChallengeMessage,
  type Identity,
  loadOrCreateKeyFile,
  type ModelInfo,
  type ProviderMessage,
  type RuntimeName,
} from "@tessera/protocol";
import { measureThroughput } from "@tessera/runtimes";
import type { Logger } from "pino";
import { Auditor } from "./auditor.js";
import { type BlobStore, createBlobCache } from "./blob-cache.js";
import { handleCapacityChallenge } from "./capacity.js";
import { type ProviderConfig, ProviderConfigError, type ProviderConfigInput, parseProviderConfig } from "./config.js";
import { type FatalReason, GatewayConnection } from "./connection.js";
import { checkDataDir } from "./data-dir.js";
import type { ChainDomain, EvidenceContext, EvidenceSigner } from "./evidence.js";
import { JobRunner, type JobStats } from "./jobs.js";
import { createLogger } from "./logger.js";
import { closeRuntimes, createDefaultRuntimes, type ProviderRuntimes, type RuntimesOption } from "./runtimes.js";
import { gatewayUrls } from "./urls.js";
import { WasmMemoryBudget, type WasmMemoryStats } from "./wasm-memory.js";
import type { HeartbeatMessage } from "./wire.js";

export const PROVIDER_SOFTWARE = "tessera-provider/0.1.0";

export interface ProviderDeps {
  /** instead of the key file */
  identity?: Identity;
  /** default: pino to stderr at config.logLevel */
  logger?: Logger;
  /** runtimes to serve instead of the ones built from the config (see RuntimesOption) */
  runtimes?: RuntimesOption;
  /** standard units per second; default measured with measureThroughput() at start */
  throughput?: number;
  /** default: the gateway's /v1/blobs cached under <dataDir>/blobs */
  blobs?: BlobStore;
  fetch?: typeof fetch;
  /** jitter source for reconnect backoff */
  random?: () => number;
  /** the connection's monotonic clock (tests move it); default performance.now */
  monotonic?: () => number;
  /** answers proof-of-capacity challenges; default the honest product (capacity.ts) */
  capacityAnswer?: (msg: CapacityChallengeMessage) => ProviderMessage;
  /**
   * signs results and verdicts as EIP-712 slashing evidence with the node's eth key when the
   * gateway settles on chain (evidence.ts); its address should be config.ethAddress
   */
  evidenceSigner?: EvidenceSigner;
}

export type ProviderExitReason = "drained" | "stopped" | FatalReason;

export interface ProviderExit {
  reason: ProviderExitReason;
  message?: string;
}

export interface ProviderStats extends JobStats {
  nodeId: string;
  /** authenticated with the gateway right now */
  connected: boolean;
  draining: boolean;
  /** the owner has the machine: nothing new is leased, batch leases were given back */
  paused: boolean;
  /** authenticated sessions since start (1 + reconnects) */
  sessions: number;
  /** the WASM memory budget (--wasm-memory-budget) shared by jobs and audits */
  wasmMemory: WasmMemoryStats;
  /** audits in hand (checking or waiting for memory), checked, and dropped as the gateway cancelled them */
  audits: { held: number; audited: number; cancelled: number };
}

export interface ProviderHandle {
  nodeId: string;
  capabilities: Capabilities;
  /** the channel URL dialled */
  gatewayUrl: string;
  /** Take no new work, finish running jobs, deliver their results (acked), then close. */
  drain(): Promise<void>;
  /** The owner wants the machine (true) or gives it back (false): see PauseMsg. */
  pause(paused: boolean): void;
  /** Close now: running jobs are aborted and nothing more is sent. */
  stop(): Promise<void>;
  stats(): ProviderStats;
  /** Resolves once the provider has shut down, saying why (drained, stopped, or refused). */
  closed: Promise<ProviderExit>;
}

export async function startProvider(input: ProviderConfigInput, deps: ProviderDeps = {}): Promise<ProviderHandle> {
  const config = parseProviderConfig(input);
  const urls = gatewayUrls(config.gateway);
  checkDataDir(config.dataDir);
  const keyWarnings: string[] = [];
  const identity = deps.identity ?? loadIdentity(config.keyFile, keyWarnings);
  const log = (deps.logger ?? createLogger(config.logLevel)).child({ nodeId: identity.id });
  for (const warning of keyWarnings) log.warn({ keyFile: config.keyFile }, warning);
  const blobs =
    deps.blobs ??
    createBlobCache({
      httpBase: urls.http,
      dir: join(config.dataDir, "blobs"),
      maxBytes: config.maxBlobBytes,
      maxCacheBytes: config.maxBlobCacheBytes,
      log,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
  const throughput = deps.throughput ?? measureThroughput();
  const { runtimes, owned } = await buildRuntimes(config, deps.runtimes, blobs, throughput);

  let offered: RuntimeName[];
  let capabilities: Capabilities;
  try {
    const models = runtimes.llm?.models() ?? [];
    offered = offeredRuntimes(config, runtimes, models);
    capabilities = CapabilitiesSchema.parse({
      runtimes: offered,
      models: offered.includes("llm") ? models : [],
      pricePerUnit: config.price,
      ...(config.batchPrice === undefined ? {} : { batchPricePerUnit: config.batchPrice }),
      region: config.region,
      maxConcurrency: config.concurrency,
      ...(config.prefetch > 0 ? { prefetch: config.prefetch } : {}),
      throughput,
      ...(offered.includes("wasm") ? { wasmMemoryMb: config.wasmMemoryBudgetMb } : {}),
      software: PROVIDER_SOFTWARE,
      ...(config.verify ? { verifier: true } : {}),
      ...(config.operator ? { operator: config.operator } : {}),
      ...(config.ethAddress ? { ethAddress: config.ethAddress } : {}),
    } satisfies Capabilities);
  } catch (err) {
    if (owned) await closeRuntimes(runtimes);
    throw err;
  }

  let draining = false;
  let paused = false;
  let shutdown: Promise<void> | undefined;
  let resolveClosed!: (exit: ProviderExit) => void;
  const closed = new Promise<ProviderExit>((resolve) => {
    resolveClosed = resolve;
  });

  // the gateway names its chain and Slashing contract in each welcome (absent on the local ledger)
  let chainDomain: ChainDomain | undefined;
  const evidence: EvidenceContext | undefined = deps.evidenceSigner
    ? { signer: deps.evidenceSigner, domain: () => chainDomain }
    : undefined;

  // one budget for leased jobs and audits: both run WASM on this machine's memory
  const wasmMemory = new WasmMemoryBudget(config.wasmMemoryBudgetMb);

  const runner: JobRunner = new JobRunner({
    identity,
    runtimes,
    offered,
    modelIds: new Set(capabilities.models.map((m) => m.id)),
    concurrency: config.concurrency + config.prefetch,
    log,
    send: (msg): boolean => connection.send(msg),
    ...(evidence ? { evidence } : {}),
    wasmMemory,
  });

  const auditor = new Auditor({
    identity,
    runtimes,
    log,
    send: (msg): boolean => connection.send(msg),
    ...(evidence ? { evidence } : {}),
    wasmMemory,
    // the scheduler hears at once of memory an audit takes or gives back, not a heartbeat later
    onHeldChanged: () => {
      if (connection.connected) connection.send(heartbeat());
    },
  });

  const heartbeat = (): HeartbeatMessage => {
    const audits = auditor.heldAudits();
    return { type: "heartbeat", running: runner.runningJobs(), ...(audits.length > 0 ? { audits } : {}) };
  };

  const connection: GatewayConnection = new GatewayConnection({
    url: urls.connect,
    identity,
    capabilities,
    log,
    ...(deps.identity ? {} : { keyFile: config.keyFile }),
    backoff: { initialMs: config.reconnectInitialMs, maxMs: config.reconnectMaxMs },
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.monotonic ? { monotonic: deps.monotonic } : {}),
    holding: () => runner.runningJobs().length,
    holdsWork: () => runner.holdsWork(),
    onWelcome: (welcome) => {
      chainDomain = welcome.chain;
      // Drain first, so nothing new is leased while results from before a drop go out.
      if (draining) connection.send({ type: "drain" });
      else if (paused) connection.send({ type: "pause", paused: true });
      runner.flush();
    },
    onMessage: (msg) => {
      if (msg.type === "lease") runner.handleLease(msg);
      else if (msg.type === "cancel") runner.handleCancel(msg);
      else if (msg.type === "audit_cancel") auditor.cancel(msg.auditId, msg.reason);
      else if (msg.type === "audit") {
        if (config.verify) auditor.handleAudit(msg);
        else auditor.decline(msg, "this node does not verify (started without --verify)");
      } else if (msg.type === "capacity_challenge")
        handleCapacityChallenge(msg, (m) => connection.send(m), log, deps.capacityAnswer);
      else runner.handleAck(msg);
    },
    heartbeat,
    onFatal: (reason, message) => void shutDown({ reason, message }),
  });

  function shutDown(exit: ProviderExit): Promise<void> {
    shutdown ??= (async () => {
      runner.stop();
      auditor.stop();
      await connection.close(1000, exit.reason === "drained" ? "drained" : "provider stopping");
      if (owned) await closeRuntimes(runtimes);
      log.info({ reason: exit.reason }, "provider stopped");
      resolveClosed(exit);
    })();
    return shutdown;
  }

  log.info(
    {
      gateway: urls.connect,
      region: config.region,
      runtimes: offered,
      models: capabilities.models.map((m) => m.name),
      ...(offered.includes("wasm") ? { wasmMemoryBudgetMb: config.wasmMemoryBudgetMb } : {}),
    },
    "provider starting",
  );
  connection.start();

  return {
    nodeId: identity.id,
    capabilities,
    gatewayUrl: urls.connect,
    async drain() {
      if (shutdown) return shutdown;
      if (!draining) {
        draining = true;
        runner.startDraining();
        // the gateway hears of the drain before the leases given back, or it leases them straight back here
        connection.send({ type: "drain" });
        // batch leases are interruptible: give them back now so they resume elsewhere at once
        runner.releaseInterruptible("provider draining");
        log.info({ running: runner.stats().running }, "draining: taking no new jobs");
      }
      await runner.idle();
      await shutDown({ reason: "drained" });
    },
    pause(p: boolean) {
      if (shutdown || draining || p === paused) return;
      paused = p;
      // as with a drain: the pause goes out before the batch leases it gives back
      connection.send({ type: "pause", paused: p });
      runner.setPaused(p);
      log.info({ running: runner.stats().running }, p ? "paused by the owner: batch leases given back" : "resumed");
    },
    stop: () => shutDown({ reason: "stopped" }),
    stats: () => ({
      ...runner.stats(),
      nodeId: identity.id,
      connected: connection.connected,
      draining,
      paused,
      sessions: connection.sessions,
      wasmMemory: wasmMemory.stats(),
      audits: { held: auditor.heldAudits().length, audited: auditor.audited, cancelled: auditor.cancelled },
    }),
    closed,
  };
}

function loadIdentity(path: string, warnings: string[]): Identity {
  try {
    return loadOrCreateKeyFile(path, { onWarning: (message) => warnings.push(message) });
  } catch (err) {
    throw new ProviderConfigError("--key", (err as Error).message);
  }
}

async function buildRuntimes(
  config: ProviderConfig,
  option: RuntimesOption | undefined,
  blobs: BlobStore,
  throughput: number,
): Promise<{ runtimes: ProviderRuntimes; owned: boolean }> {
  const createDefault = () => createDefaultRuntimes(config, { blobs });
  if (option === undefined) return { runtimes: await createDefault(), owned: true };
  if (typeof option === "function") {
    return { runtimes: await option({ config, blobs, throughput, createDefault }), owned: true };
  }
  return { runtimes: option, owned: false };
}

/** What to advertise: the configured runtimes, each of which must be able to run, or all that can. */
function offeredRuntimes(config: ProviderConfig, runtimes: ProviderRuntimes, models: ModelInfo[]): RuntimeName[] {
  const usable = (name: RuntimeName) =>
    name === "llm" ? runtimes.llm !== undefined && models.length > 0 : runtimes.wasm !== undefined;
  if (config.runtimes) {
    for (const name of config.runtimes) {
      if (!usable(name)) {
        throw new ProviderConfigError(
          "--runtimes",
          name === "llm"
            ? "llm needs at least one model (--models or --tiny-model)"
            : `the ${name} runtime is not available`,
        );
      }
    }
    return [...new Set(config.runtimes)];
  }
  const offered = (["llm", "wasm"] as const).filter(usable);
  if (offered.length === 0) throw new ProviderConfigError("--runtimes", "this provider has no runtime to offer");
  return offered;
}
