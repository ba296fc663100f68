// `tessera provider`: run a provider daemon that dials the gateway, serves jobs on this
// machine's runtimes and drains cleanly on SIGTERM/SIGINT (a second signal exits at once).
import { join } from "node:path";
import type { ProviderConfigInput, ProviderExit, ProviderHandle } from "@tessera/provider";
import type { Command } from "commander";
import { watchParent } from "../lib/parent-watch.js";

interface ProviderFlags {
  gateway: string;
  key?: string;
  region: string;
  price: string;
  models?: string[];
  concurrency: string;
  prefetch: string;
  threads?: string;
  contextSize?: string;
  runtimes?: string[];
  dataDir: string;
  tinyModel?: boolean;
  gpu?: boolean;
  logLevel: string;
  json?: boolean;
  batchPrice?: string;
  verify?: boolean;
  operator?: string;
  ethKey?: string;
  batchSize?: string;
  wasmMemoryBudget?: string;
}

/** Exit codes: 0 drained or stopped, 1 bad settings or start-up failure, 2 protocol version
 * refused, 3 key refused by the gateway, 4 key in use by another provider process. 2 to 4 mean
 * "restarting will not help". */
const EXIT_CODES: Record<ProviderExit["reason"], number> = {
  drained: 0,
  stopped: 0,
  version_mismatch: 2,
  auth_failed: 3,
  key_in_use: 4,
};

export function registerProviderCommand(program: Command): void {
  program
    .command("provider")
    .description("run a provider node: dial the gateway and execute jobs on this machine")
    .option("--gateway <url>", "gateway URL (ws://, wss://, http:// or https://)", "ws://127.0.0.1:8787")
    .option("--key <file>", "node key file, created when missing (default: <data-dir>/provider-key.json)")
    .option("--region <name>", "region label advertised to the scheduler", "local")
    .requiredOption("--price <n>", "price in nano-credits per standard unit (integer)")
    .option("--batch-price <n>", "price for interruptible batch work (default: --price)")
    .option("--models <paths...>", "GGUF model files to serve")
    .option("--concurrency <n>", "jobs run at once", "1")
    .option(
      "--prefetch <n>",
      "batch leases held beyond --concurrency, queued until a slot frees, so no slot idles between jobs (interactive work is never leased into them)",
      "0",
    )
    .option(
      "--wasm-memory-budget <MiB>",
      "memory the limits of the WASM jobs running at once may add up to; a job that does not fit waits for one to end (default: half of this machine's memory)",
    )
    .option("--threads <n>", "CPU threads for the LLM runtime")
    .option("--context-size <n>", "LLM context size per sequence")
    .option("--runtimes <names...>", "runtimes to offer: llm, wasm (default: llm when models are given, and wasm)")
    .option("--data-dir <dir>", "blob cache and generated models", ".tessera")
    .option("--tiny-model", "also serve the generated tiny test model (<data-dir>/models)")
    .option("--gpu", "let the LLM runtime use a GPU backend when one is available")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent", "info")
    .option("--verify", "also act as a verifier: re-check other providers' results for a fee")
    .option("--operator <name>", "operator label; audits go to verifiers of another operator (default: node id)")
    .option("--batch-size <n>", "LLM prompt tokens per decode call")
    .option(
      "--eth-key <file>",
      "secp256k1 key (created when missing): redeems payment vouchers, holds stake in ProviderRegistry and signs EIP-712 slashing evidence (results, verdicts) when the gateway settles on chain",
    )
    .option("--json", "print the start-up line as JSON")
    .action(async (_flags: ProviderFlags, command: Command) => {
      const flags = command.optsWithGlobals<ProviderFlags>();
      process.exitCode = await runProvider(flags);
    });
}

async function runProvider(flags: ProviderFlags): Promise<number> {
  // a signal during start-up (loading models can take minutes) stops the node once start-up is
  // over, so no half-written file is left behind (the tiny model); a second one exits at once
  let startSignal: NodeJS.Signals | undefined;
  const onStartSignal = (signal: NodeJS.Signals) => {
    if (startSignal) process.exit(signal === "SIGINT" ? 130 : 143);
    startSignal = signal;
    process.stderr.write(
      `tessera provider: ${signal} during start-up; stopping once it is over (send again to exit now)\n`,
    );
  };
  process.on("SIGINT", onStartSignal);
  process.on("SIGTERM", onStartSignal);
  let handle: ProviderHandle;
  try {
    // loaded here: every `tessera` command imports this file to register it, and the runtimes are heavy
    const { startProvider } = await import("@tessera/provider");
    // the eth key redeems vouchers and, when the gateway settles on chain, signs slashing evidence
    const chain = flags.ethKey === undefined ? undefined : await import("@tessera/chain");
    const eth = chain && flags.ethKey !== undefined ? chain.loadOrCreateEthKey(flags.ethKey) : undefined;
    handle = await startProvider(
      configFromFlags(flags, eth?.address),
      chain && eth ? { evidenceSigner: chain.evidenceSigner(eth.account) } : {},
    );
  } catch (err) {
    process.stderr.write(`tessera provider: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onStartSignal);
    process.off("SIGTERM", onStartSignal);
  }
  if (startSignal) {
    await handle.stop();
    process.stderr.write("tessera provider: stopped during start-up\n");
    setImmediate(() => process.exit(EXIT_CODES.stopped));
    return EXIT_CODES.stopped;
  }
  printStartLine(handle, flags);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`tessera provider: ${signal} again, exiting now\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    process.stderr.write(
      `tessera provider: ${signal}, draining (finishing ${handle.stats().running} running job(s)); send again to exit now\n`,
    );
    void handle.drain();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // started by `tessera up`: when `up` dies (kill -9) this node drains as if `up` had sent SIGTERM
  const unwatch = watchParent(() => {
    process.stderr.write("tessera provider: tessera up is gone\n");
    onSignal("SIGTERM");
  });
  // the owner wants the machine for a while, then gives it back (SIGUSR1 belongs to Node's inspector)
  const onPauseToggle = () => {
    const paused = !handle.stats().paused;
    handle.pause(paused);
    process.stderr.write(
      paused
        ? "tessera provider: SIGUSR2, paused (batch leases given back, nothing new taken); send again to resume\n"
        : "tessera provider: SIGUSR2, resumed\n",
    );
  };
  process.on("SIGUSR2", onPauseToggle);

  const exit = await handle.closed;
  unwatch();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.off("SIGUSR2", onPauseToggle);
  if (exit.message) process.stderr.write(`tessera provider: ${exit.message}\n`);
  // Native runtimes can keep threads alive after close; leave explicitly once done.
  const code = EXIT_CODES[exit.reason];
  setImmediate(() => process.exit(code));
  return code;
}

function configFromFlags(flags: ProviderFlags, ethAddress: string | undefined): ProviderConfigInput {
  return {
    gateway: flags.gateway,
    keyFile: flags.key ?? join(flags.dataDir, "provider-key.json"),
    region: flags.region,
    price: toNumber(flags.price),
    ...(flags.batchPrice === undefined ? {} : { batchPrice: toNumber(flags.batchPrice) }),
    models: flags.models ?? [],
    tinyModel: flags.tinyModel === true,
    gpu: flags.gpu === true,
    concurrency: toNumber(flags.concurrency),
    prefetch: toNumber(flags.prefetch),
    ...(flags.threads === undefined ? {} : { threads: toNumber(flags.threads) }),
    ...(flags.contextSize === undefined ? {} : { contextSize: toNumber(flags.contextSize) }),
    ...(flags.runtimes === undefined ? {} : { runtimes: flags.runtimes as ("llm" | "wasm")[] }),
    dataDir: flags.dataDir,
    logLevel: flags.logLevel as ProviderConfigInput["logLevel"],
    ...(flags.verify ? { verify: true } : {}),
    ...(flags.operator === undefined ? {} : { operator: flags.operator }),
    ...(ethAddress === undefined ? {} : { ethAddress }),
    ...(flags.batchSize === undefined ? {} : { batchSize: toNumber(flags.batchSize) }),
    ...(flags.wasmMemoryBudget === undefined ? {} : { wasmMemoryBudgetMb: toNumber(flags.wasmMemoryBudget) }),
  };
}

/** Strings that are not plain numbers become NaN, which validation reports naming the flag. */
function toNumber(value: string): number {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
}

function printStartLine(handle: ProviderHandle, flags: ProviderFlags): void {
  const { capabilities } = handle;
  const models = capabilities.models.map((m) => ({ name: m.name, id: m.id }));
  if (flags.json) {
    const line = {
      nodeId: handle.nodeId,
      region: capabilities.region,
      gateway: handle.gatewayUrl,
      runtimes: capabilities.runtimes,
      models,
      pricePerUnit: capabilities.pricePerUnit,
      maxConcurrency: capabilities.maxConcurrency,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const modelText = models.length ? models.map((m) => `${m.name} (${m.id.slice(0, 12)})`).join(", ") : "none";
  process.stdout.write(
    `provider ${handle.nodeId} region=${capabilities.region} runtimes=${capabilities.runtimes.join(",")} ` +
      `models=${modelText} gateway=${handle.gatewayUrl}\n`,
  );
}
