// Where the EVM backend keeps its custody seed and chain key: a key made up at each start would
// leave consumers' deposits at addresses no later start holds keys for.
import { describe, expect, it } from "vitest";
import { type GatewayConfig, parseGatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import { evmKeyFiles, startEvmSettlement } from "./start-evm.js";

const evm = (db: string, keys: { custodyKeyFile?: string; chainKeyFile?: string } = {}): GatewayConfig =>
  parseGatewayConfig({
    db,
    settlement: { kind: "evm", rpc: "http://127.0.0.1:1", contracts: "/nonexistent/deployment.json", ...keys },
  });

describe("evm settlement keys", () => {
  it("refuses to start on PostgreSQL without --custody-key and --chain-key, naming the missing flags", async () => {
    const pg = "postgres://u@localhost/tessera";
    await expect(startEvmSettlement({} as Engine, {} as never, evm(pg), {} as never)).rejects.toThrow(
      /needs --custody-key and --chain-key <file>/,
    );
    expect(() => evmKeyFiles(evm(pg, { custodyKeyFile: "/k/custody.key" }))).toThrow(/needs --chain-key <file>/);
    expect(() => evmKeyFiles(evm(pg, { chainKeyFile: "/k/gateway.eth.key" }))).toThrow(/needs --custody-key <file>/);
    expect(evmKeyFiles(evm(pg, { custodyKeyFile: "/k/c", chainKeyFile: "/k/g" }))).toEqual({
      custody: "/k/c",
      chain: "/k/g",
    });
  });

  it("keeps both keys beside a SQLite file, and a fresh key per start with :memory:", () => {
    expect(evmKeyFiles(evm("/data/gw/tessera.db"))).toEqual({
      custody: "/data/gw/custody.key",
      chain: "/data/gw/gateway.eth.key",
    });
    expect(evmKeyFiles(evm(":memory:"))).toEqual({ custody: undefined, chain: undefined });
  });
});
