// `tessera chain up`: a Hardhat 2 devnet served over JSON-RPC on loopback with Tessera deployed.
import type { Hex } from "viem";
import { DEVNET_DEPLOYER_KEY, deployToRpc } from "../deploy/connect.js";
import type { Deployment } from "../deploy/deployment.js";
import { serveHardhat, startHardhat } from "./hardhat.js";

export interface Devnet {
  url: string;
  deployment: Deployment;
  close(): Promise<void>;
}

export async function startDevnet(opts: { port: number; out: string; privateKey?: Hex }): Promise<Devnet> {
  const provider = await startHardhat();
  const served = await serveHardhat(provider, opts.port);
  try {
    const deployment = await deployToRpc({
      rpc: served.url,
      privateKey: opts.privateKey ?? DEVNET_DEPLOYER_KEY,
      out: opts.out,
    });
    return { url: served.url, deployment, close: () => served.close() };
  } catch (e) {
    await served.close();
    throw e;
  }
}
