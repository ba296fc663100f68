// `tessera chain unbond` and `tessera chain withdraw-stake`: a node takes stake out of
// ProviderRegistry from its eth key. Unbonding stake stays slashable for the registry's unbondDelay
// (and while a dispute freezes it); a refused call names the contract's reason and changes nothing.

import { existsSync } from "node:fs";
import type { Command } from "commander";
import { chainFailure } from "../lib/chain-errors.js";
import { reportFailure } from "../lib/failure.js";

type Hex = `0x${string}`;

async function connect(o: { rpc: string; contracts: string; ethKey: string }) {
  // a mistyped path must not mint a fresh key that has nothing staked
  if (!existsSync(o.ethKey)) throw new Error(`--eth-key: no key file at ${o.ethKey} (the key the node staked from)`);
  const { clientsFor, loadOrCreateEthKey, readDeployment } = await import("@tessera/chain");
  const dep = readDeployment(o.contracts);
  const c = await clientsFor(o.rpc, loadOrCreateEthKey(o.ethKey).privateKey as Hex);
  const chainId = await c.public.getChainId();
  if (chainId !== dep.chainId)
    throw new Error(`--contracts ${o.contracts} is for chain ${dep.chainId}, --rpc is ${chainId}`);
  return { c, dep };
}

function withChainFlags(cmd: Command): Command {
  return cmd
    .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
    .requiredOption("--contracts <file>", "deployment.json of the contracts")
    .requiredOption("--eth-key <file>", "the node's secp256k1 key file (the one it staked from)")
    .option("--json", "print the outcome as JSON");
}

export function registerUnbondCommands(chain: Command): void {
  withChainFlags(
    chain
      .command("unbond")
      .description("provider/verifier: start unbonding stake in ProviderRegistry (slashable until withdrawn)")
      .requiredOption("--amount <nc>", "stake to unbond, in token base units (nano-credits)"),
  ).action(async (o) => {
    if (!/^[1-9][0-9]{0,40}$/.test(o.amount))
      return reportFailure("--amount must be a positive integer", Boolean(o.json));
    try {
      const { c, dep } = await connect(o);
      const { unbondStake } = await import("@tessera/chain");
      const r = await unbondStake(c, dep, BigInt(o.amount));
      const readyAt = new Date(r.stake.unbondReadyAt * 1000).toISOString();
      if (o.json)
        process.stdout.write(
          `${JSON.stringify({ address: r.address, tx: r.tx, bonded: r.stake.bonded.toString(), unbonding: r.stake.unbonding.toString(), readyAt })}\n`,
        );
      else
        process.stdout.write(
          `unbonding: ${r.address} has ${r.stake.unbonding} unbonding (withdraw after ${readyAt}), ${r.stake.bonded} bonded\n`,
        );
    } catch (e) {
      reportFailure(await chainFailure(e), Boolean(o.json));
    }
  });
  withChainFlags(
    chain
      .command("withdraw-stake")
      .description("provider/verifier: withdraw unbonded stake from ProviderRegistry once its delay has passed"),
  ).action(async (o) => {
    try {
      const { c, dep } = await connect(o);
      const { withdrawStake } = await import("@tessera/chain");
      const r = await withdrawStake(c, dep);
      if (o.json)
        process.stdout.write(
          `${JSON.stringify({ address: r.address, tx: r.tx, withdrawn: r.amount.toString(), bonded: r.stake.bonded.toString() })}\n`,
        );
      else process.stdout.write(`withdrew ${r.amount} to ${r.address} (${r.stake.bonded} still bonded)\n`);
    } catch (e) {
      reportFailure(await chainFailure(e), Boolean(o.json));
    }
  });
}
