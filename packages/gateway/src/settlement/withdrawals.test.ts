// The payout step of a custodial withdrawal across a crash, on a real devnet served over JSON-RPC
// and a real store: a transfer whose hash was recorded but never broadcast is signed again and
// paid once; a transfer already mined is not sent a second time, however often the step reruns.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientsFor, DEVNET_DEPLOYER_KEY, type Devnet, startDevnet, TestTokenAbi } from "@tessera/chain";
import { type ChainWithdrawalRow, openStore, type Store } from "@tessera/store";
import pino from "pino";
import { createWalletClient, type Hex, http, keccak256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GroupWriter } from "../engine/writer.js";
import { Custody } from "./custody.js";
import { CustodialWithdrawals } from "./withdrawals.js";

const PAID = 7_000_000n;

describe("custodial withdrawal payouts across a crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-withdraw-"));
  let devnet: Devnet;
  let clients: Awaited<ReturnType<typeof clientsFor>>;
  let store: Store;
  let custody: Custody;
  let withdrawals: CustodialWithdrawals;
  let n = 0;

  beforeAll(async () => {
    devnet = await startDevnet({ port: 0, out: join(dir, "deployment.json") });
    clients = await clientsFor(devnet.url, DEVNET_DEPLOYER_KEY);
  }, 120_000);
  afterAll(async () => {
    await devnet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    store = await openStore(":memory:");
    custody = new Custody(randomBytes(32));
    withdrawals = new CustodialWithdrawals({
      store,
      writer: new GroupWriter(store),
      rpc: devnet.url,
      clients,
      deployment: devnet.deployment,
      custody,
      // only request() asks for headroom; these tests start from a withdrawal already taken out of escrow
      evm: { headroom: () => Promise.reject(new Error("not asked in these tests")) },
      log: pino({ level: "silent" }),
    });
  });

  const balanceOf = (address: Hex) =>
    clients.public.readContract({
      address: devnet.deployment.token,
      abi: TestTokenAbi,
      functionName: "balanceOf",
      args: [address],
    });

  /** A consumer whose withdrawal left escrow: its custodial address holds what Escrow.withdraw paid. */
  async function withdrawn(transferTx: Hex | null): Promise<{ row: ChainWithdrawalRow; payee: Hex; from: Hex }> {
    const consumerId = `c${++n}`;
    const from = custody.account(consumerId).address;
    const payee = privateKeyToAccount(keccak256(`0x${n.toString(16).padStart(2, "0")}`)).address;
    const hash = await clients.wallet.writeContract({
      address: devnet.deployment.token,
      abi: TestTokenAbi,
      functionName: "mint",
      args: [from, PAID],
    });
    await clients.public.waitForTransactionReceipt({ hash });
    const row: ChainWithdrawalRow = {
      id: `wd_${consumerId}`,
      consumerId,
      fromAddress: from,
      toAddress: payee,
      amount: PAID,
      status: "withdrawn",
      readyAt: 0,
      requestTx: hash,
      withdrawTx: hash,
      paid: PAID,
      transferTx,
      error: null,
      createdAt: 1,
      updatedAt: 1,
    };
    await store.withdrawals.putWithdrawal(row);
    return { row, payee, from };
  }

  it("signs again and pays once when the recorded transfer never reached the chain", async () => {
    const neverSent = keccak256(randomBytes(32)); // what a crash between record and broadcast leaves
    const { row, payee, from } = await withdrawn(neverSent);
    await withdrawals.pass();
    const [after] = await store.withdrawals.withdrawalsOf(row.consumerId, 1);
    expect(after?.status).toBe("paid");
    expect(after?.transferTx).not.toBe(neverSent);
    const receipt = await clients.public.getTransactionReceipt({ hash: after?.transferTx as Hex });
    expect(receipt.status).toBe("success");
    expect(await balanceOf(payee)).toBe(PAID);
    expect(await balanceOf(from)).toBe(0n);
    await withdrawals.pass(); // a later pass finds nothing open
    expect(await balanceOf(payee)).toBe(PAID);
  }, 60_000);

  it("does not send again when the recorded transfer was mined before the crash", async () => {
    const { row, payee, from } = await withdrawn(null);
    // the transfer went out and was mined, then the gateway died before marking the row paid
    await clients.wallet.sendTransaction({ to: from, value: 10n ** 16n });
    const custodial = createWalletClient({
      chain: clients.wallet.chain,
      transport: http(devnet.url),
      account: custody.account(row.consumerId),
    });
    const sent = await custodial.writeContract({
      address: devnet.deployment.token,
      abi: TestTokenAbi,
      functionName: "transfer",
      args: [payee, PAID],
    });
    await clients.public.waitForTransactionReceipt({ hash: sent });
    await store.withdrawals.putWithdrawal({ ...row, transferTx: sent });
    await withdrawals.pass();
    const [after] = await store.withdrawals.withdrawalsOf(row.consumerId, 1);
    expect(after).toMatchObject({ status: "paid", transferTx: sent });
    expect(await balanceOf(payee)).toBe(PAID);
  }, 60_000);
});
