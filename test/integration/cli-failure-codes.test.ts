// Every failing command names a code under --json, the chain commands included: they printed
// `"code": null` for a bad flag and for an RPC endpoint with nothing behind it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, spawnTessera } from "../helpers/network.js";

const run = async (args: string[]) => {
  const p = spawnTessera("cli", args);
  const code = await p.exited;
  const out = p.output();
  const line = out.split("\n").find((l) => l.startsWith("{"));
  return { code, out, error: (JSON.parse(line ?? "{}") as { error?: { code: unknown; message: string } }).error };
};

describe("tessera chain failures under --json", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-cli-codes-"));
  const a = "0x0000000000000000000000000000000000000001";
  const contracts = join(dir, "deployment.json");
  writeFileSync(
    contracts,
    JSON.stringify({
      chainId: 31337,
      deployer: a,
      token: a,
      registry: a,
      escrow: a,
      slashing: a,
      shares: a,
      params: {
        minStake: "1",
        unbondDelay: 1,
        withdrawDelay: 1,
        feeBps: 1,
        feeRecipient: a,
        canaryAuthority: a,
        providerPenalty: "1",
        verifierPenalty: "1",
        verifierRewardBps: 1,
        disputeWindow: 1,
      },
      sourceHash: "x",
    }),
  );
  const flags = (rpc: string) => ["--rpc", rpc, "--contracts", contracts, "--eth-key", join(dir, "eth.json"), "--json"];

  it("a bad flag is invalid_argument, an RPC with nothing behind it rpc_unreachable naming it", async () => {
    const rpc = `http://127.0.0.1:${await freePort()}`;
    const badAmount = await run(["chain", "stake", ...flags(rpc), "--amount", "0"]);
    expect(badAmount.code).toBe(1);
    expect(badAmount.error).toEqual({ code: "invalid_argument", message: "--amount must be a positive integer" });
    // the human line is as it was: the message names the flag
    expect(badAmount.out).toContain("error: --amount must be a positive integer");
    const unbondAmount = await run(["chain", "unbond", ...flags(rpc), "--amount", "x"]);
    expect(unbondAmount.error?.code).toBe("invalid_argument");
    const noFile = await run(["chain", "stake", ...flags(rpc), "--amount", "5", "--contracts", join(dir, "none.json")]);
    expect(noFile.error?.code).toBe("invalid_argument");
    for (const command of [
      ["stake", "--amount", "5"],
      ["unbond", "--amount", "5"],
    ]) {
      const down = await run(["chain", ...command, ...flags(rpc)]);
      expect(down.code, down.out).toBe(1);
      expect(down.error?.code, down.out).toBe("rpc_unreachable");
      expect(down.error?.message, down.out).toContain(`cannot reach the chain at ${rpc}`);
      expect(down.out).toContain(`error: rpc_unreachable: cannot reach the chain at ${rpc}`);
    }
  });
});
