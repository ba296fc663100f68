// A custodial withdrawal and a job submitted at the same moment must not both count the same
// headroom: the withdrawal's amount is set aside on the ledger before its request is sent, so the
// job's escrow (or the withdrawal) is refused and every voucher stays redeemable.
import { accounts, checkInvariants, escrowEvent, withdrawingAccount } from "@tessera/core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { devnetSuite } from "./test-chain.js";
import { CustodialWithdrawals } from "./withdrawals.js";

describe("a custodial withdrawal racing a job's escrow", () => {
  const suite = devnetSuite("withdraw-race-");

  async function setup(consumerId: string) {
    const h = await suite.ledger();
    const { store, dep, clients, pub, writer, custody, evm, watch, log } = h;
    const withdrawals = new CustodialWithdrawals({
      store,
      writer,
      rpc: suite.devnet().url,
      clients: { ...clients, public: pub } as never,
      deployment: dep,
      custody,
      evm,
      log,
    });
    await h.deposit(consumerId, 10_000n);
    // what Engine.queue does: admit against the chain headroom, then write the escrow
    const submit = async (jobId: string, amount: bigint) => {
      await evm.admit(consumerId, amount);
      const r = await writer.write({ ledger: escrowEvent(jobId, consumerId, amount, 1) });
      if (!r.ok) throw r.error;
    };
    const payee = privateKeyToAccount(generatePrivateKey()).address;
    return { s: store, pub, evm, watch, withdrawals, submit, payee, dep };
  }

  it("lets only one of a whole-headroom withdrawal and a concurrent job's escrow through", async () => {
    const t = await setup("c1");
    expect(await t.evm.headroom("c1")).toBe(10_000n);
    const [wd, job] = await Promise.allSettled([t.withdrawals.request("c1", 10_000n, t.payee), t.submit("j1", 4_000n)]);
    expect([wd.status, job.status].filter((x) => x === "fulfilled")).toHaveLength(1);
    // and whichever came second is refused when the first is already in
    const late =
      wd.status === "fulfilled"
        ? await t.submit("j2", 4_000n).then(
            () => "accepted",
            () => "refused",
          )
        : await t.withdrawals.request("c1", 10_000n, t.payee).then(
            () => "accepted",
            () => "refused",
          );
    expect(late).toBe("refused");
    expect(checkInvariants(await t.s.balances()).problems).toEqual([]);
  }, 60_000);

  it("sets the requested amount aside and mirrors the Withdrawn log out of it", async () => {
    const t = await setup("c2");
    await t.withdrawals.request("c2", 6_000n, t.payee);
    expect(await t.s.balance(withdrawingAccount("c2"))).toBe(6_000n);
    expect(await t.s.balance(accounts.available("c2"))).toBe(4_000n);
    await expect(t.submit("j3", 4_001n)).rejects.toThrow();
    await t.submit("j3", 4_000n);
    await t.pub.request({ method: "evm_increaseTime" as never, params: [t.dep.params.withdrawDelay + 1] as never });
    await t.pub.request({ method: "evm_mine" as never, params: [] as never });
    await t.withdrawals.pass();
    await t.watch.poll();
    expect(await t.s.balance(withdrawingAccount("c2"))).toBe(0n);
    expect(await t.s.balance(accounts.available("c2"))).toBe(0n);
    expect(await t.s.balance(accounts.escrow("c2"))).toBe(4_000n);
    expect(checkInvariants(await t.s.balances()).problems).toEqual([]);
  }, 60_000);
});
