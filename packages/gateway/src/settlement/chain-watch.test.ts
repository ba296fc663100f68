// The chain mirror against a real in-process devnet: a Redeemed log the ledger cannot post is
// logged, listed and retried, in order per pair, while the mirror goes on past it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet } from "@tessera/chain";
import { accounts, auditFeeEvent, checkInvariants, EXTERNAL, FEES, type LedgerEvent } from "@tessera/core";
import { expect, it } from "vitest";
import { chainLedger } from "./test-chain.js";
import { settledJob } from "./test-ledger.js";

it("logs and skips a redemption it cannot mirror, goes on past it, and posts it on a later poll once it can", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chain-watch-"));
  const devnet = await startDevnet({ port: 0, out: join(dir, "deployment.json") });
  const { dep, store, writer, watch, deposit, fundedWallet, redeemVoucher } = await chainLedger(devnet);
  try {
    const post = async (ev: LedgerEvent) => {
      const r = await writer.write({ ledger: ev });
      if (!r.ok) throw r.error;
    };
    const addr = await deposit("c1", 10_000n);
    expect(await store.balance(accounts.available("c1"))).toBe(10_000n);
    const provider = await fundedWallet();
    const _key = provider.account;
    const settleAndRedeem = async (jobs: string[], cumulative: bigint, net: bigint) => {
      for (const jobId of jobs)
        for (const ev of settledJob({
          jobId,
          consumerId: "c1",
          providerId: "p1",
          cost: 1_000n,
          feeBps: dep.params.feeBps,
          at: 1,
        }))
          await post(ev);
      return redeemVoucher("c1", addr, provider, cumulative, net, 4);
    };

    // three jobs' fees (150) less 100 already paid out of protocol:fees: the redemption cannot be mirrored
    const first = await settleAndRedeem(["j1", "j2", "j3"], 3_000n, 2_850n);
    await post(auditFeeEvent("audit:a1:v1:fee", "j1", "v1", 100n, 3));
    await expect(watch.poll()).resolves.toBeUndefined();
    expect(watch.unmirrored().map((u) => u.cumulative)).toEqual([3_000n]);
    // the mirror went on past the failed log
    expect((watch as unknown as { next: bigint }).next).toBe(first.blockNumber + 1n);

    // two more jobs put 100 into fees: the retry mirrors the first; the next redemption is short again
    await settleAndRedeem(["j4", "j5"], 5_000n, 4_750n);
    await watch.poll();
    expect(watch.unmirrored().map((u) => u.cumulative)).toEqual([5_000n]);
    expect(await store.balance(accounts.earnings("p1"))).toBe(1_900n);

    // once the shortfall is made good, it posts, once
    await post({ id: "fees-topup", kind: "deposit", at: 5, transfers: [{ from: EXTERNAL, to: FEES, amount: 100n }] });
    await watch.poll();
    await watch.poll();
    expect(watch.unmirrored()).toEqual([]);
    expect(await store.balance(accounts.earnings("p1"))).toBe(0n);
    expect(await store.balance(FEES)).toBe(0n);
    expect(checkInvariants(await store.balances()).problems).toEqual([]);
  } finally {
    await store.close();
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
