// `tessera gateway`: run a gateway in the foreground until SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { intFlag } from "../lib/flags.js";
import { watchParent } from "../lib/parent-watch.js";

export function registerGatewayCommand(program: Command): void {
  program
    .command("gateway")
    .description("run a gateway: HTTP API, provider channel, scheduler and ledger")
    .option("--port <n>", "port to listen on", intFlag("port", 0, 65535), 8787)
    .option("--host <addr>", "address to bind", "127.0.0.1")
    .option("--db <path|url>", "SQLite file or postgres:// URL", ".tessera/gateway.db")
    .option("--key <file>", "gateway identity key file (default: beside the SQLite file)")
    .option("--admin-key-file <file>", "file holding the admin token for /v1/admin")
    .option("--fee-bps <n>", "protocol fee in basis points", intFlag("fee-bps", 0, 5000), 500)
    .option("--lease-ms <n>", "job lease length", intFlag("lease-ms", 500), 15_000)
    .option("--heartbeat-ms <n>", "provider heartbeat interval", intFlag("heartbeat-ms", 100), 2_000)
    .option("--max-attempts <n>", "attempts per job before it fails", intFlag("max-attempts", 1, 20), 3)
    .option(
      "--answer-wait-ms <n>",
      "how long a non-streamed OpenAI request waits for its answer before its job is cancelled (504)",
      intFlag("answer-wait-ms", 1),
      11 * 60_000,
    )
    .option("--rate-limit <n>", "requests per second per API key (0: off)", intFlag("rate-limit", 0), 1000)
    .option("--log-level <level>", "fatal|error|warn|info|debug|silent", "info")
    .option("--sample-ms <ms>", "dashboard time-series sampling interval", intFlag("sample-ms", 100), 2000)
    .option(
      "--min-stake <nc>",
      "stake a provider needs to be scheduled, nano-credits (--settlement evm: its bonded stake in ProviderRegistry)",
      "0",
    )
    .option(
      "--verifier-min-stake <nc>",
      "stake a verifier needs to be sent audits, burned when a canary catches its verdict, nano-credits (default: --min-stake)",
    )
    .option("--audit-new-rate <p>", "audit probability of a new provider", "0.5")
    .option("--audit-floor <p>", "lowest audit probability of a clean provider", "0.05")
    .option("--slash-multiple <k>", "slash = k x the cheated job's cost (capped by stake)", "40")
    .option("--unbonding-ms <n>", "how long unbonded stake stays slashable", String(7 * 24 * 3600_000))
    .option("--canary-rate <r>", "canary jobs (known answers) per settled job, paid from fees", "0.02")
    .option("--verifier-canary-rate <r>", "canary audits (known-wrong or known-good results) per passed audit", "0.05")
    .option("--fail-canary-rate <r>", "known-good canary audits sent to a verifier per result it failed", "1")
    .option(
      "--audited-known-good",
      "known-good canary audits may also be real results one audit passed (public as passed, and resting on one verifier)",
    )
    .option(
      "--canary-reserve <n>",
      "canaries' escrow moved from fees at a time (fundings then pay no particular canary)",
      "20",
    )
    .option("--canary-delay-ms <n>", "mean random wait before a drawn canary job is submitted", "5000")
    .option(
      "--canary-replay-wait-ms <n>",
      "how long a known-wrong verifier canary waits for a real unaudited result to replay before it goes out signed by a throw-away key",
      "60000",
    )
    .option(
      "--no-capacity-proof",
      "schedule a node without a passing proof of capacity (challenges still run, and failures still lower reputation)",
    )
    .option("--capacity-n <n>", "matrix size of a proof-of-capacity challenge (default 320)")
    .option("--capacity-interval-ms <n>", "mean gap between a node's random capacity challenges (default 600000)")
    .option(
      "--capacity-slack <x>",
      "a proof is late past this many times the compute its claimed throughput needs (default 8)",
    )
    .option(
      "--capacity-allowance-ms <n>",
      "round-trip allowance added to a proof's time before it counts as slow (default 150)",
    )
    .option(
      "--capacity-retry-ms <n>",
      "how soon a node that failed a capacity challenge is challenged again (default 15000)",
    )
    .option("--pass-recheck-rate <r>", "share of audits passed by one verifier sent to a second all the same", "0.1")
    .option(
      "--max-running-per-consumer <n>",
      "jobs one consumer may run at once (0: no cap)",
      intFlag("max-running-per-consumer", 0),
      0,
    )
    .option(
      "--preempt-after-ms <n>",
      "interactive wait before a batch job is preempted (0: never)",
      intFlag("preempt-after-ms", 0),
      2000,
    )
    .option("--files-dir <dir>", "batch input and output files (default: files/ beside the SQLite file)")
    .option("--batch-in-flight <n>", "queued+running batch lines per consumer", intFlag("batch-in-flight", 1), 512)
    .option("--settlement <kind>", "where money lives: local (the gateway's ledger) or evm (Escrow contract)", "local")
    .option("--rpc <url>", "JSON-RPC URL of the chain (--settlement evm)")
    .option("--contracts <file>", "deployment.json of the contracts (--settlement evm)")
    .option(
      "--chain-confirmations <n>",
      "blocks deep a deposit, redemption or withdrawal must be before the gateway credits, spends or mirrors it (--settlement evm; 0: the head, fine for a devnet)",
      intFlag("chain-confirmations", 0, 1000),
    )
    .option(
      "--voucher-credit <nc>",
      "settled work, counting open jobs, a consumer who signs its own vouchers may leave unsigned before new jobs get 402 (--settlement evm; default 10000000000 = 10 credits)",
    )
    .option("--custody-key <file>", "seed of consumers' custodial voucher keys (default: beside the SQLite file)")
    .option(
      "--chain-key <file>",
      "the gateway's own secp256k1 key, created when missing: submits slashing evidence to the Slashing contract and pays its gas (--settlement evm; default gateway.eth.key beside the SQLite file)",
    )
    .option("--json", "print the start-up line as JSON")
    .action(async (o) => {
      const adminKey = o.adminKeyFile ? readFileSync(o.adminKeyFile, "utf8").trim() : process.env.TESSERA_ADMIN_KEY;
      // loaded here: every `tessera` command imports this file to register it
      const { startGateway } = await import("@tessera/gateway");
      const gw = await startGateway({
        port: o.port,
        host: o.host,
        db: o.db,
        keyFile: o.key,
        adminKey,
        feeBps: o.feeBps,
        leaseMs: o.leaseMs,
        heartbeatMs: o.heartbeatMs,
        maxAttempts: o.maxAttempts,
        answerWaitMs: o.answerWaitMs,
        rateLimitPerSecond: o.rateLimit,
        logLevel: o.logLevel,
        sampleMs: o.sampleMs,
        maxRunningPerConsumer: o.maxRunningPerConsumer,
        preemptAfterMs: o.preemptAfterMs,
        batchInFlightPerConsumer: o.batchInFlight,
        ...(o.filesDir ? { filesDir: o.filesDir } : {}),
        verification: {
          minStake: o.minStake,
          ...(o.verifierMinStake === undefined ? {} : { verifierMinStake: o.verifierMinStake }),
          unbondingMs: Number(o.unbondingMs),
          passRecheckRate: Number(o.passRecheckRate),
          canaries: {
            providerRate: Number(o.canaryRate),
            verifierRate: Number(o.verifierCanaryRate),
            failRate: Number(o.failCanaryRate),
            auditedKnownGood: o.auditedKnownGood === true,
            reserve: Number(o.canaryReserve),
            meanDelayMs: Number(o.canaryDelayMs),
            replayWaitMs: Number(o.canaryReplayWaitMs),
          },
          capacity: {
            required: o.capacityProof !== false,
            // a flag left out stays undefined: the setting's own default
            n: optionalNumber(o.capacityN),
            intervalMs: optionalNumber(o.capacityIntervalMs),
            slack: optionalNumber(o.capacitySlack),
            allowanceMs: optionalNumber(o.capacityAllowanceMs),
            retryMs: optionalNumber(o.capacityRetryMs),
          },
          policy: {
            newRate: Number(o.auditNewRate),
            floorRate: Number(o.auditFloor),
            afterFailureRate: Math.max(1, Number(o.auditNewRate)),
            slashMultiple: Number(o.slashMultiple),
          },
        },
        settlement: {
          kind: o.settlement,
          ...(o.rpc ? { rpc: o.rpc } : {}),
          ...(o.contracts ? { contracts: o.contracts } : {}),
          ...(o.chainConfirmations !== undefined ? { confirmations: o.chainConfirmations } : {}),
          ...(o.custodyKey ? { custodyKeyFile: o.custodyKey } : {}),
          ...(o.chainKey ? { chainKeyFile: o.chainKey } : {}),
          ...(o.voucherCredit ? { voucherCredit: o.voucherCredit } : {}),
        },
      });
      const line = {
        url: gw.url,
        providerChannel: `${gw.wsUrl}/v1/provider/connect`,
        db: gw.store.dialect,
        gatewayId: gw.identity.id,
      };
      process.stdout.write(
        o.json
          ? `${JSON.stringify(line)}\n`
          : `gateway listening on ${gw.url} (providers connect to ${line.providerChannel})\n`,
      );
      let closing = false;
      const shutdown = async () => {
        if (closing) process.exit(1);
        closing = true;
        await gw.close();
        process.exit(0);
      };
      process.on("SIGINT", shutdown);
      process.on("SIGTERM", shutdown);
      // started by `tessera up`: a network whose `up` died (kill -9) stops as Ctrl-C would stop it
      watchParent(() => {
        process.stderr.write("tessera gateway: tessera up is gone, shutting down\n");
        void shutdown();
      });
    });
}

const optionalNumber = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
