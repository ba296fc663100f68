// Hardhat 2's EVM (EDR) as a library: an in-process EIP-1193 provider for tests and benchmarks,
// and the same network served as JSON-RPC on loopback for `tessera chain up`.
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { custom, type EIP1193RequestFn, type Transport } from "viem";

const require = createRequire(import.meta.url);
const configPath = resolve(dirname(fileURLToPath(import.meta.url)), "../../hardhat.config.cjs");

export interface Eip1193 {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

/** Starts a fresh, empty Hardhat network in this process (about half a second). */
export async function startHardhat(): Promise<Eip1193> {
  const { resolveConfig } = require("hardhat/internal/core/config/config-resolution") as {
    resolveConfig(path: string, user: object): object;
  };
  const { createProvider } = require("hardhat/internal/core/providers/construction") as {
    createProvider(config: object, network: string): Promise<Eip1193>;
  };
  const config = resolveConfig(configPath, require(configPath) as object);
  return createProvider(config, "hardhat");
}

/** viem transport over an in-process provider. */
export function hardhatTransport(provider: Eip1193): Transport {
  return custom({ request: provider.request.bind(provider) as EIP1193RequestFn }, { retryCount: 0 });
}

export interface ServedChain {
  url: string;
  close(): Promise<void>;
}

/** Serves `provider` as HTTP JSON-RPC on 127.0.0.1 (port 0 picks a free one). */
export async function serveHardhat(provider: Eip1193, port = 8545, hostname = "127.0.0.1"): Promise<ServedChain> {
  const { JsonRpcServer } = require("hardhat/internal/hardhat-network/jsonrpc/server") as {
    JsonRpcServer: new (c: {
      hostname: string;
      port: number;
      provider: Eip1193;
    }) => {
      listen(): Promise<{ address: string; port: number }>;
      close(): Promise<void>;
    };
  };
  const server = new JsonRpcServer({ hostname, port, provider });
  const addr = await server.listen();
  return { url: `http://${hostname}:${addr.port}`, close: () => server.close() };
}

/** Funds `address` with native gas money on a Hardhat network. */
export async function setBalance(provider: Eip1193, address: string, wei: bigint): Promise<void> {
  await provider.request({ method: "hardhat_setBalance", params: [address, `0x${wei.toString(16)}`] });
}

/** Moves the chain's clock forward and mines a block. */
export async function increaseTime(provider: Eip1193, seconds: number): Promise<void> {
  await provider.request({ method: "evm_increaseTime", params: [seconds] });
  await provider.request({ method: "evm_mine", params: [] });
}
