// `tessera chain redeem`: a provider fetches its latest vouchers from the gateway and redeems on
// chain every one that pays something new (one transaction per consumer).
import { loadKeyFile } from "@tessera/protocol";
import type { Command } from "commander";

export function registerRedeemCommand(chain: Command): void {
  chain
    .command("redeem")
    .description("provider: fetch the latest payment vouchers from the gateway and redeem them on chain")
    .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
    .requiredOption("--key <file>", "the provider's node key file (proves to the gateway who is asking)")
    .requiredOption("--eth-key <file>", "the provider's secp256k1 key file (`tessera provider --eth-key`)")
    .option("--gateway <url>", "gateway URL", "http://127.0.0.1:8787")
    .option("--contracts <file>", "deployment.json to check the gateway's escrow address against")
    .option("--json", "print the redemptions as JSON")
    .action(async (o) => {
      // loaded here: every `tessera` command imports this file to register it
      const [{ clientsFor, loadOrCreateEthKey, readDeployment, redeemVouchers }, { getAddress }, { fetchVouchers }] =
        await Promise.all([import("@tessera/chain"), import("viem"), import("../lib/vouchers.js")]);
      const identity = loadKeyFile(o.key);
      const got = await fetchVouchers(o.gateway, identity);
      // a gateway on its local ledger answers chain 0: there is nothing to redeem anywhere
      if (got.chainId === 0)
        throw new Error(`the gateway at ${o.gateway} settles on its local ledger, not on chain: nothing to redeem`);
      const eth = loadOrCreateEthKey(o.ethKey);
      const c = await clientsFor(o.rpc, eth.privateKey);
      const chainId = await c.public.getChainId();
      if (chainId !== got.chainId)
        throw new Error(`the gateway settles on chain ${got.chainId} but --rpc is chain ${chainId}`);
      const escrow = getAddress(got.escrow);
      if (o.contracts && readDeployment(o.contracts).escrow !== escrow)
        throw new Error(`the gateway's escrow ${escrow} is not the one in ${o.contracts}`);
      const done = await redeemVouchers(c, escrow, got.vouchers);
      const rows = done.map((r) => ({
        ...r,
        cumulative: r.cumulative.toString(),
        owed: r.owed.toString(),
        gasUsed: r.gasUsed.toString(),
      }));
      if (o.json) process.stdout.write(`${JSON.stringify({ address: eth.address, redemptions: rows })}\n`);
      else {
        for (const r of rows)
          process.stdout.write(`redeemed ${r.owed} nc from ${r.consumer} (cumulative ${r.cumulative}) in ${r.tx}\n`);
        process.stdout.write(`${rows.length} voucher(s) redeemed to ${eth.address}\n`);
      }
    });
}
