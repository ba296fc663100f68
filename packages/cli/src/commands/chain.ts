// `tessera chain deploy` and `tessera chain up`: put Tessera's settlement contracts on a chain.
import type { Command } from "commander";
import { intFlag } from "../lib/flags.js";
import { watchParent } from "../lib/parent-watch.js";
import { portFree } from "../lib/processes.js";
import { registerRedeemCommand } from "./redeem.js";
import { registerStakeCommand } from "./stake.js";
import { registerUnbondCommands } from "./unbond.js";

type Hex = `0x${string}`;

// @tessera/chain (viem, Hardhat) is imported in the actions: every `tessera` command loads this file
const chainLib = () => import("@tessera/chain");

async function deployerKey(flag: string | undefined): Promise<Hex> {
  const key = flag ?? process.env.TESSERA_DEPLOYER_KEY;
  if (key === undefined) return (await chainLib()).DEVNET_DEPLOYER_KEY;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error("--private-key must be 0x followed by 64 hex digits");
  return key as Hex;
}

export function registerChainCommands(program: Command): void {
  const chain = program
    .command("chain")
    .description("on-chain settlement: deploy contracts, run a devnet, stake, unbond, redeem vouchers");
  registerRedeemCommand(chain);
  registerStakeCommand(chain);
  registerUnbondCommands(chain);
  chain
    .command("deploy")
    .description("deploy the token, registry, escrow, slashing and shares contracts; write deployment.json")
    .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
    .option("--private-key <hex>", "deployer key (or TESSERA_DEPLOYER_KEY; default: Hardhat's devnet account #0)")
    .option("--out <file>", "where to write the deployment record", "deployment.json")
    .action(async (o) => {
      const { deployToRpc } = await chainLib();
      const dep = await deployToRpc({ rpc: o.rpc, privateKey: await deployerKey(o.privateKey), out: o.out });
      process.stdout.write(
        `deployed on chain ${dep.chainId}: escrow ${dep.escrow}, registry ${dep.registry} → ${o.out}\n`,
      );
    });
  chain
    .command("up")
    .description("start a Hardhat 2 devnet on loopback JSON-RPC, deploy, and keep it running")
    .option("--port <n>", "JSON-RPC port", intFlag("port", 0, 65535), 8545)
    .option("--out <file>", "where to write the deployment record", "deployment.json")
    .action(async (o) => {
      // Hardhat's server would throw EADDRINUSE from an event no one listens to
      await portFree(o.port, "--port", "another devnet?");
      const { startDevnet } = await chainLib();
      const net = await startDevnet({ port: o.port, out: o.out });
      process.stdout.write(`devnet ${net.url} (chain ${net.deployment.chainId}); contracts → ${o.out}\n`);
      const stop = () => void net.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      watchParent(stop); // started by `tessera up`, which is gone
    });
}
