// A local chain for the --settlement evm suites, as real processes: `tessera chain up` (Hardhat 2
// served over JSON-RPC, Tessera's contracts deployed), the gateway flags that settle on it, and the
// `tessera chain redeem` run by which a provider collects its vouchers.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { freePort, type Proc, spawnTessera, until } from "./network.js";

export interface TestChain {
  proc: Proc;
  rpc: string;
  /** the deployment.json `tessera chain up` wrote */
  depFile: string;
}

/** Starts a devnet with the contracts deployed; stop it with `chain.proc.kill()`. */
export async function startChain(dir: string): Promise<TestChain> {
  const port = await freePort();
  const depFile = join(dir, "deployment.json");
  const proc = spawnTessera("devnet", ["chain", "up", "--port", String(port), "--out", depFile]);
  await until("devnet deployed", () => proc.output().includes("contracts →") && existsSync(depFile), 60_000);
  return { proc, rpc: `http://127.0.0.1:${port}`, depFile };
}

/** `tessera gateway` flags that settle on the chain, then `extra`. */
export function evmGatewayFlags(chain: TestChain, extra: string[] = []): string[] {
  return ["--settlement", "evm", "--rpc", chain.rpc, "--contracts", chain.depFile, ...extra];
}

/**
 * `tessera chain redeem` for the provider with these keys: it must exit 0; its redemptions.
 * `checkContracts` also passes the deployment file, which the command checks the gateway's against.
 */
export async function redeem(
  name: string,
  chain: TestChain,
  gatewayUrl: string,
  keys: { node: string; eth: string },
  checkContracts = true,
): Promise<{ redemptions: { owed: string; cumulative: string }[] }> {
  const p = spawnTessera(name, [
    "chain",
    "redeem",
    "--rpc",
    chain.rpc,
    "--gateway",
    gatewayUrl,
    "--key",
    keys.node,
    "--eth-key",
    keys.eth,
    ...(checkContracts ? ["--contracts", chain.depFile] : []),
    "--json",
  ]);
  expect(await p.exited, p.output()).toBe(0);
  return JSON.parse(p.output().trim().split("\n").pop() ?? "{}");
}
