// viem clients for a JSON-RPC URL and a deployer key, and the whole deploy-and-record step that
// `tessera chain deploy` and `tessera chain up` run.
import { createPublicClient, createWalletClient, defineChain, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { DEFAULT_PARAMS, type DeployParams, deployTessera } from "./deploy.js";
import { type Deployment, writeDeployment } from "./deployment.js";

/** Hardhat's first default account. Publicly known: use it only on a local devnet. */
export const DEVNET_DEPLOYER_KEY: Hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export async function clientsFor(rpc: string, privateKey: Hex) {
  const probe = createPublicClient({ transport: http(rpc) });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
  const transport = http(rpc);
  return {
    wallet: createWalletClient({ chain, transport, account: privateKeyToAccount(privateKey) }),
    public: createPublicClient({ chain, transport, pollingInterval: 100 }),
  };
}

export async function deployToRpc(opts: {
  rpc: string;
  privateKey: Hex;
  out: string;
  params?: Partial<DeployParams>;
}): Promise<Deployment> {
  const c = await clientsFor(opts.rpc, opts.privateKey);
  const dep = await deployTessera(c, { ...DEFAULT_PARAMS, ...opts.params });
  writeDeployment(opts.out, dep);
  return dep;
}
