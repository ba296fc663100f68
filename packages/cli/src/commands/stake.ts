// `tessera chain stake`: a provider or verifier bonds stake in ProviderRegistry from its eth key
// (register the first time, top up after). Under --settlement evm the gateway schedules on this
// stake and the Slashing contract takes from it. `--faucet` first has the devnet's publicly known
// deployer mint the tokens and send gas money (a devnet only).
import type { Command } from "commander";
import { chainFailure } from "../lib/chain-errors.js";

export function registerStakeCommand(chain: Command): void {
  chain
    .command("stake")
    .description("provider/verifier: bond stake in ProviderRegistry from the node's eth key (register, or top up)")
    .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
    .requiredOption(
      "--eth-key <file>",
      "the node's secp256k1 key file (`tessera provider --eth-key`), created when missing",
    )
    .requiredOption("--amount <nc>", "stake to add, in token base units (nano-credits)")
    .requiredOption("--contracts <file>", "deployment.json of the contracts")
    .option("--region <region>", "region recorded in the registry's metadata at registration", "")
    .option("--price <nc>", "price per standard unit recorded at registration", "0")
    .option("--faucet", "devnet only: mint the tokens and send gas money from Hardhat's account #0 first")
    .option("--json", "print the outcome as JSON")
    .action(async (o) => {
      const { bondStake, clientsFor, DEVNET_DEPLOYER_KEY, loadOrCreateEthKey, readDeployment, TestTokenAbi } =
        await import("@tessera/chain");
      if (!/^[1-9][0-9]{0,40}$/.test(o.amount)) throw new Error("--amount must be a positive integer");
      if (!/^[0-9]{1,30}$/.test(o.price)) throw new Error("--price must be a non-negative integer");
      const amount = BigInt(o.amount);
      const dep = readDeployment(o.contracts);
      const eth = loadOrCreateEthKey(o.ethKey);
      const c = await clientsFor(o.rpc, eth.privateKey);
      const chainId = await c.public.getChainId();
      if (chainId !== dep.chainId)
        throw new Error(`--contracts ${o.contracts} is for chain ${dep.chainId}, --rpc is ${chainId}`);
      if (o.faucet) {
        const f = await clientsFor(o.rpc, DEVNET_DEPLOYER_KEY);
        const w = { chain: f.wallet.chain ?? null, account: f.wallet.account };
        const mined = async (h: Promise<`0x${string}`>) => {
          const r = await f.public.waitForTransactionReceipt({ hash: await h, pollingInterval: 50 });
          if (r.status !== "success") throw new Error(`faucet transaction ${r.transactionHash} reverted`);
        };
        await mined(
          f.wallet.writeContract({
            ...w,
            address: dep.token,
            abi: TestTokenAbi,
            functionName: "mint",
            args: [eth.address, amount],
          }),
        );
        if ((await f.public.getBalance({ address: eth.address })) < 10n ** 17n)
          await mined(f.wallet.sendTransaction({ ...w, to: eth.address, value: 10n ** 18n }));
      }
      const r = await bondStake(c, dep, amount, { region: o.region, pricePerUnit: BigInt(o.price) }).catch(
        async (e: unknown) => {
          throw await chainFailure(e);
        },
      );
      if (o.json)
        process.stdout.write(
          `${JSON.stringify({ address: r.address, action: r.action, bonded: r.bonded.toString(), txs: r.txs })}\n`,
        );
      else process.stdout.write(`${r.action}: ${r.address} now has ${r.bonded} bonded in ${dep.registry}\n`);
    });
}
