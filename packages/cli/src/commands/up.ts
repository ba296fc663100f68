// `tessera up`: a whole local network on one machine. A gateway and N providers run as
// separate OS processes (each with its own key and region), a demo consumer is funded, and
// with --demo real work is pushed through it.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadKeyFile } from "@tessera/protocol";
import { TesseraClient } from "@tessera/sdk";
import { type Command, Option } from "commander";
import { intFlag } from "../lib/flags.js";
import { count, formatCredits } from "../lib/format.js";
import { type Child, lastWords, NodeSet, portFree, spawnTessera, waitFor } from "../lib/processes.js";

const REGIONS = ["eu-west", "us-east", "ap-south", "sa-east", "af-south", "us-west", "eu-north", "ap-east"];
const DEMO_DEPOSIT = 1_000n * 1_000_000_000n; // 1,000 credits

function adminKey(dir: string): string {
  const file = join(dir, "admin.key");
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

async function demoCredentials(
  dir: string,
  url: string,
  admin: TesseraClient,
  onChain = false,
): Promise<{ gateway: string; apiKey: string }> {
  const file = join(dir, "credentials.json");
  const saved = savedApiKey(file);
  if (saved) {
    const probe = new TesseraClient({ baseUrl: url, apiKey: saved });
    if (
      await probe.account().then(
        () => true,
        () => false,
      )
    )
      // the key is kept, the gateway is this one: a restart on another --port moves client commands along
      return writeCredentials(file, { gateway: url, apiKey: saved });
  }
  // on chain the deposit goes to the Escrow contract instead (lib/chain-funding.ts)
  const consumer = await admin.createConsumer("demo", onChain ? undefined : DEMO_DEPOSIT);
  return writeCredentials(file, { gateway: url, apiKey: consumer.apiKey });
}

/** The API key a previous `up` saved; a file that is not what `up` writes is replaced, with a word. */
function savedApiKey(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const { apiKey } = JSON.parse(readFileSync(file, "utf8")) as { apiKey?: unknown };
    if (typeof apiKey === "string" && apiKey.length > 0) return apiKey;
  } catch {
    // unreadable: said below
  }
  process.stderr.write(`${file} holds no API key tessera up wrote; writing a new one\n`);
  return undefined;
}

function writeCredentials(file: string, creds: { gateway: string; apiKey: string }): typeof creds {
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above applies only to a file that did not exist
  return creds;
}

export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("start a local network: a gateway and N provider processes")
    .option("--providers <n>", "provider processes", intFlag("providers", 1, 64), 3)
    .option(
      "--verifiers <n>",
      "verifier processes (providers started with --verify, each its own operator)",
      intFlag("verifiers", 0, 16),
      1,
    )
    .option("--port <n>", "gateway port", intFlag("port", 1, 65535), 8787)
    .option("--dir <dir>", "state directory (database, keys, logs, models)", ".tessera")
    .option("--models <paths...>", "GGUF models every provider serves (default: the generated tiny model)")
    .option("--demo", "run a demo workload and print a summary")
    .option("--chats <n>", "chat completions in the demo", intFlag("chats", 0), 9)
    .option("--wasm-jobs <n>", "WASM jobs in the demo", intFlag("wasm-jobs", 0), 30)
    .option("--exit-after-demo", "stop the network once the demo has run")
    .addOption(
      new Option(
        "--settlement <kind>",
        "local (the gateway's ledger) or evm (a Hardhat devnet with the contracts: the demo deposit in Escrow, every node staked in ProviderRegistry, slashing on chain)",
      )
        .choices(["local", "evm"])
        .default("local"),
    )
    .option("--chain-port <n>", "devnet JSON-RPC port (--settlement evm)", intFlag("chain-port", 1, 65535), 8545)
    .action(async (o) => {
      // loaded here, not at the top: every `tessera` command imports this file to register it
      const [{ loadOrCreateEthKey, readDeployment }, { ensureTinyModel }, funding, { runDemo }] = await Promise.all([
        import("@tessera/chain"),
        import("@tessera/runtimes"),
        import("../lib/chain-funding.js"),
        import("../lib/demo.js"),
      ]);
      const { clearDeployment, fundConsumerOnChain, fundGas, stakeNodes, waitForDeployment } = funding;
      const dir = resolve(o.dir);
      const logs = join(dir, "logs");
      mkdirSync(logs, { recursive: true });
      const children = new NodeSet();
      const stop = async (code: number) => {
        if (children.isStopping) return;
        if (children.nodes.length > 0) process.stdout.write("stopping the network (providers drain first)...\n");
        await children.stop();
        process.exit(code);
      };
      process.on("SIGINT", () => void stop(0));
      process.on("SIGTERM", () => void stop(0));
      // the nodes are in their own process groups: a closed terminal reaches only `up`
      process.on("SIGHUP", () => void stop(0));
      let ready = false;
      // A node that dies is said out loud: without the gateway (or the devnet it settles on) the
      // network is gone, so everything stops; without one provider it goes on.
      const start = (child: Child): Child => {
        children.add(child);
        void child.exited.then((code) => {
          if (children.isStopping) return;
          // before the network is up, any node that dies means it will not come up
          const essential = !ready || child.name === "gateway" || child.name === "devnet";
          const said = code === 0 ? undefined : lastWords(child);
          process.stderr.write(
            `tessera up: ${child.name} exited (code ${code ?? "killed"}); ${essential ? "stopping the network" : "the network goes on without it"} (see ${child.logFile})\n` +
              (said ? `  ${child.name} said: ${said}\n` : ""),
          );
          if (essential) void stop(1);
        });
        return child;
      };

      try {
        const missing = (o.models as string[] | undefined)?.find(
          (m) => !statSync(m, { throwIfNoEntry: false })?.isFile(),
        );
        if (missing) throw new Error(`--models: ${missing} is not a file`);
        // the gateway would die of EADDRINUSE while the health check found whatever holds the port
        await portFree(o.port);
        const models: string[] = o.models ?? [await ensureTinyModel(join(dir, "models"))];
        const onChain = o.settlement === "evm";
        const rpc = `http://127.0.0.1:${o.chainPort}`;
        const contracts = join(dir, "deployment.json");
        if (onChain) {
          await portFree(o.chainPort, "--chain-port", "another devnet?");
          clearDeployment(contracts);
          start(spawnTessera("devnet", ["chain", "up", "--port", String(o.chainPort), "--out", contracts], logs));
          await waitForDeployment(contracts, rpc);
        }
        const admin = adminKey(dir);
        // the gateway's own account: submits slashing evidence to the Slashing contract
        const gatewayEthKey = join(dir, "keys", "gateway.eth.key");
        start(
          spawnTessera(
            "gateway",
            [
              "gateway",
              "--port",
              String(o.port),
              "--db",
              join(dir, "gateway.db"),
              "--admin-key-file",
              join(dir, "admin.key"),
              ...(onChain
                ? ["--settlement", "evm", "--rpc", rpc, "--contracts", contracts, "--chain-key", gatewayEthKey]
                : []),
            ],
            logs,
          ),
        );
        const url = `http://127.0.0.1:${o.port}`;
        const adminClient = new TesseraClient({ baseUrl: url, adminKey: admin });
        await waitFor("the gateway", async () => ((await adminClient.health()).ok ? true : undefined), 30_000);
        const creds = await demoCredentials(dir, url, adminClient, onChain);
        if (onChain)
          await fundConsumerOnChain({ rpc, contracts, gateway: url, apiKey: creds.apiKey, amount: DEMO_DEPOSIT });
        const ethKeys: string[] = [];

        // verifiers are providers that also re-check others' results; each is its own operator
        const nodes = [
          ...Array.from({ length: o.providers }, (_, i) => ({ name: `provider-${i + 1}`, verify: false, i })),
          ...Array.from({ length: o.verifiers }, (_, i) => ({
            name: `verifier-${i + 1}`,
            verify: true,
            i: o.providers + i,
          })),
        ];
        for (const { name, verify, i } of nodes) {
          const region = REGIONS[i % REGIONS.length]!;
          start(
            spawnTessera(
              name,
              [
                "provider",
                ...(verify ? ["--verify", "--operator", name] : []),
                "--gateway",
                `ws://127.0.0.1:${o.port}`,
                "--key",
                join(dir, "keys", `${name}.key`),
                "--region",
                region,
                "--price",
                String(40 + 10 * (i % 3)),
                "--concurrency",
                "2",
                "--data-dir",
                join(dir, name),
                ...(onChain ? ["--eth-key", ethKeys[ethKeys.push(join(dir, "keys", `${name}.eth.key`)) - 1]!] : []),
                "--models",
                ...models,
              ],
              logs,
            ),
          );
        }
        await waitFor(
          `${nodes.length} providers and verifiers`,
          async () => ((await adminClient.health()).providers >= nodes.length ? true : undefined),
          120_000,
        );
        ready = true;
        if (onChain) {
          await fundGas(
            rpc,
            [...ethKeys, gatewayEthKey].map((f) => loadOrCreateEthKey(f).address),
          );
          // every provider and verifier bonds twice the registry's minimum: scheduled, and slashable on chain
          const stake = 2n * readDeployment(contracts).params.minStake;
          await stakeNodes(rpc, contracts, ethKeys, stake);
          process.stdout.write(
            `settling on chain: devnet ${rpc}, contracts ${contracts}; each node bonded ${formatCredits(stake)} credits in ProviderRegistry; providers redeem with 'tessera chain redeem'\n`,
          );
        }
        const client = new TesseraClient({ baseUrl: url, apiKey: creds.apiKey, adminKey: admin });
        const modelList = (await client.models()).data;
        process.stdout.write(
          [
            "",
            `Tessera network up: gateway ${url} with ${count(o.providers, "provider")} and ${count(o.verifiers, "verifier")}`,
            `  OpenAI API   ${url}/v1   (model: ${modelList.map((m) => m.id).join(", ")})`,
            `  native API   ${url}/v1/jobs   metrics ${url}/metrics`,
            `  credentials  ${join(dir, "credentials.json")}`,
            `  logs         ${logs}`,
            "",
          ].join("\n"),
        );

        if (o.demo) {
          const summary = await runDemo({
            gateway: url,
            apiKey: creds.apiKey,
            client,
            chats: o.chats,
            wasmJobs: o.wasmJobs,
            model: modelList[0]?.id ?? "",
          });
          const failed = summary.outcomes.filter((x) => !x.ok);
          const names = new Map(nodes.map(({ name }) => [loadKeyFile(join(dir, "keys", `${name}.key`)).id, name]));
          process.stdout.write(
            "\n node        id                 region     jobs  tokens  billed (credits)  earned (credits)\n",
          );
          const order = (id: string) => nodes.findIndex((n) => n.name === names.get(id)) >>> 0; // others last
          for (const p of summary.perProvider.sort((a, b) => order(a.id) - order(b.id)))
            process.stdout.write(
              ` ${(names.get(p.id) ?? "other").padEnd(11)} ${p.id.slice(0, 16)}…  ${p.region.padEnd(9)} ${String(p.jobs).padStart(5)} ${String(p.tokens).padStart(7)}  ${formatCredits(p.cost).padStart(16)}  ${formatCredits(p.earned).padStart(16)}\n`,
            );
          const total = summary.outcomes.reduce((n, x) => n + x.cost, 0n);
          const tokens = summary.outcomes.reduce((n, x) => n + x.tokens, 0);
          const ledger = await client.ledger();
          process.stdout.write(
            `\n ${summary.outcomes.length - failed.length} jobs completed, ${failed.length} failed, ${tokens} tokens, cost ${formatCredits(total)} credits\n` +
              ` ledger invariants: ${ledger.ok ? "hold" : `BROKEN: ${ledger.problems.join("; ")}`}\n`,
          );
          for (const f of failed.slice(0, 5)) process.stdout.write(` failure (${f.kind}): ${f.error}\n`);
          if (o.exitAfterDemo) return void (await stop(failed.length === 0 && ledger.ok ? 0 : 1));
        }
        process.stdout.write("\nPress Ctrl-C to stop the network.\n");
      } catch (e) {
        process.stderr.write(`tessera up: ${(e as Error).message}\n(see the logs in ${logs})\n`);
        await stop(1);
      }
    });
}
