// A voucher its consumer's key signed to itself (or an accomplice) can be redeemed at once, with no
// withdrawal delay: that takes money out of the deposit and pays no provider, so the headroom must
// not treat it as settled work paid off.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EscrowAbi, signVoucher, startDevnet } from "@tessera/chain";
import { expect, it } from "vitest";
import { testJob } from "../verification/test-nodes.js";
import { chainLedger } from "./test-chain.js";
import { settledJob } from "./test-ledger.js";

it("does not count a redemption of a voucher the gateway never recorded as paying what providers are owed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "self-redeem-"));
  const devnet = await startDevnet({ port: 0, out: join(dir, "deployment.json") });
  const { dep, store, writer, custody, evm, mined, deposit, fundedWallet } = await chainLedger(devnet);
  try {
    const addr = await deposit("c1", 10_000n);
    // 3000 of settled work owed to provider p1, not redeemed yet
    for (const ledger of settledJob({
      jobId: "j1",
      consumerId: "c1",
      providerId: "p1",
      cost: 3_000n,
      feeBps: dep.params.feeBps,
      at: 1,
    }))
      expect((await writer.write({ ledger })).ok).toBe(true);
    // the job's record carries the settled cost the headroom counts
    const job = testJob("j1", "p1", { consumerId: "c1", cost: 3_000n, escrow: 3_000n });
    expect((await writer.write({ job })).ok).toBe(true);
    expect(await evm.headroom("c1")).toBe(7_000n);
    // whoever holds the consumer's key signs 3000 to an address of its own and redeems it at once
    const wallet = await fundedWallet();
    const v = { consumer: addr, provider: wallet.account.address, cumulative: 3_000n };
    const signature = await signVoucher(custody.account("c1"), dep.chainId, dep.escrow, v);
    await mined(
      wallet.writeContract({ address: dep.escrow, abi: EscrowAbi, functionName: "redeem", args: [v, signature] }),
    );
    // 7000 left in the deposit, of which p1 is still owed 3000
    expect(await evm.headroom("c1")).toBe(4_000n);
    await expect(evm.admit("c1", 4_001n)).rejects.toThrow();
  } finally {
    await store.close();
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
