// Consumers' withdrawals through the custodian (--settlement evm). The gateway holds the custodial
// key, so it acts for the consumer: Escrow.requestWithdrawal from the custodial address, then after
// the contract's delay Escrow.withdraw, then a token transfer to the address the consumer named.
// Only headroom may leave (core's withdrawalRefusal), and a requested amount is set aside on the
// ledger (available → withdrawing) before the request is sent, so a job escrowed at the same time
// cannot count it too: vouchers already promised stay redeemable. The gateway's own account pays
// the custodial address's gas. The ledger mirrors the Withdrawn log (chain-watch.ts).
import { randomUUID } from "node:crypto";
import { type Clients, type Deployment, decodeRevert, EscrowAbi, TestTokenAbi } from "@tessera/chain";
import { nextWithdrawalStep, withdrawalRefusal, withdrawalReleaseEvent, withdrawalReserveEvent } from "@tessera/core";
import { InsufficientBalance, TesseraError } from "@tessera/protocol";
import type { ChainWithdrawalRow, Store } from "@tessera/store";
import type { Logger } from "pino";
import {
  type Address,
  createWalletClient,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  keccak256,
  parseEventLogs,
} from "viem";
import type { GroupWriter } from "../engine/writer.js";
import type { Custody } from "./custody.js";
import type { EvmSettlement } from "./evm.js";
import { PollLoop } from "./poll-loop.js";

/** the custodial address is topped up to this much gas money when it has less than half */
const GAS_TOPUP = 10n ** 16n;

export interface WithdrawalDeps {
  store: Store;
  /** sets requested amounts aside on the ledger, through the same writer as the engine's escrows */
  writer: Pick<GroupWriter, "write">;
  rpc: string;
  /** the gateway's own account, which pays gas */
  clients: Clients;
  deployment: Deployment;
  custody: Custody;
  /** the consumer's headroom, checked when a withdrawal is requested */
  evm: Pick<EvmSettlement, "headroom">;
  log: Logger;
  /** runs each transaction of the gateway's account alone (start-evm.ts) */
  exclusive?: <T>(f: () => Promise<T>) => Promise<T>;
  now?: () => number;
}

export class CustodialWithdrawals {
  private readonly now: () => number;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly loop: PollLoop;

  constructor(private readonly d: WithdrawalDeps) {
    this.now = d.now ?? Date.now;
    this.loop = new PollLoop(
      () => this.pass(),
      (err) => d.log.warn({ err }, "withdrawal pass failed; retrying"),
    );
  }

  /** One request per consumer at a time: two concurrent requests must not both pass the headroom check. */
  private serial<T>(consumerId: string, f: () => Promise<T>): Promise<T> {
    const next = (this.locks.get(consumerId) ?? Promise.resolve()).then(f, f);
    this.locks.set(
      consumerId,
      next.catch(() => {}),
    );
    return next;
  }

  request(consumerId: string, amount: bigint, to: string): Promise<ChainWithdrawalRow> {
    return this.serial(consumerId, async () => {
      const open = (await this.d.store.withdrawals.withdrawalsOf(consumerId, 1)).some(
        (w) => w.status === "requested" || w.status === "withdrawn",
      );
      const headroom = await this.d.evm.headroom(consumerId);
      const refusal = withdrawalRefusal(amount, headroom, open);
      if (refusal && amount > headroom && !open)
        throw new InsufficientBalance(amount, headroom, "This withdrawal asks for");
      if (refusal) throw new TesseraError("withdrawal_refused", 409, refusal, "invalid_request_error");
      const id = `wd_${randomUUID().replaceAll("-", "")}`;
      // the ledger refuses the overdraft when a job's escrow took part of the amount since the check
      const reserved = await this.d.writer.write({
        ledger: withdrawalReserveEvent(id, consumerId, amount, this.now()),
      });
      if (!reserved.ok) throw reserved.error;
      const wallet = this.wallet(consumerId);
      let r: Awaited<ReturnType<typeof this.d.clients.public.waitForTransactionReceipt>>;
      let hash: Hex;
      try {
        await this.ensureGas(wallet.account.address);
        hash = await wallet.writeContract({
          chain: wallet.chain ?? null,
          address: this.d.deployment.escrow,
          abi: EscrowAbi,
          functionName: "requestWithdrawal",
          args: [amount],
        });
        r = await this.d.clients.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
        if (r.status !== "success") throw new Error(`requestWithdrawal ${hash} reverted`);
      } catch (err) {
        await this.d.writer.write({ ledger: withdrawalReleaseEvent(id, consumerId, amount, this.now()) });
        throw err;
      }
      const [log] = parseEventLogs({ abi: EscrowAbi, logs: r.logs, eventName: "WithdrawalRequested" });
      const now = this.now();
      const row: ChainWithdrawalRow = {
        id,
        consumerId,
        fromAddress: wallet.account.address,
        toAddress: getAddress(to),
        amount,
        status: "requested",
        readyAt: Number(log?.args.readyAt ?? 0n),
        requestTx: hash,
        withdrawTx: null,
        paid: null,
        transferTx: null,
        error: null,
        createdAt: now,
        updatedAt: now,
      };
      await this.d.store.withdrawals.putWithdrawal(row);
      this.d.log.info(
        { consumerId, amount: amount.toString(), readyAt: row.readyAt, tx: hash },
        "withdrawal requested",
      );
      return row;
    });
  }

  start(pollMs: number): void {
    this.loop.start(pollMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Moves every open withdrawal one step when its time has come; a failed step is retried next pass. */
  async pass(): Promise<void> {
    const open = await this.d.store.withdrawals.openWithdrawals();
    if (open.length === 0) return;
    const block = await this.d.clients.public.getBlock();
    for (const w of open) {
      const step = nextWithdrawalStep(w, Number(block.timestamp));
      if (step === "wait" || step === "done") continue;
      await this.serial(w.consumerId, () => (step === "withdraw" ? this.withdraw(w) : this.transfer(w))).catch(
        async (err) => {
          const message = ((err as Error).message ?? String(err)).split("\n")[0] ?? "";
          this.d.log.warn(
            { consumerId: w.consumerId, withdrawal: w.id, step, err: message },
            "withdrawal step failed; will retry",
          );
          await this.save(w, { error: message });
        },
      );
    }
  }

  private async withdraw(w: ChainWithdrawalRow): Promise<void> {
    const wallet = this.wallet(w.consumerId);
    await this.ensureGas(wallet.account.address);
    let paid: bigint;
    let tx: Hex;
    try {
      tx = await wallet.writeContract({
        chain: wallet.chain ?? null,
        address: this.d.deployment.escrow,
        abi: EscrowAbi,
        functionName: "withdraw",
      });
      const r = await this.d.clients.public.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
      if (r.status !== "success") throw new Error(`withdraw ${tx} reverted`);
      const [log] = parseEventLogs({ abi: EscrowAbi, logs: r.logs, eventName: "Withdrawn" });
      paid = log?.args.amount ?? 0n;
    } catch (err) {
      // withdrawn already (a restart between the transaction and its record): find its log
      if (decodeRevert(err)?.name !== "NoWithdrawal") throw err;
      const found = await this.withdrawnSince(w);
      if (!found) throw err;
      ({ paid, tx } = found);
    }
    // what was set aside and not paid (redemptions meanwhile took it) is the consumer's again
    const released = await this.d.writer.write({
      ledger: withdrawalReleaseEvent(w.id, w.consumerId, paid < w.amount ? w.amount - paid : 0n, this.now()),
    });
    if (!released.ok) throw released.error;
    await this.save(w, { status: paid > 0n ? "withdrawn" : "paid", withdrawTx: tx, paid, error: null });
    this.d.log.info({ consumerId: w.consumerId, paid: paid.toString(), tx }, "withdrawn from escrow");
  }

  private async withdrawnSince(w: ChainWithdrawalRow): Promise<{ paid: bigint; tx: Hex } | undefined> {
    const req = await this.d.clients.public.getTransactionReceipt({ hash: w.requestTx as Hex });
    const logs = await this.d.clients.public.getContractEvents({
      address: this.d.deployment.escrow,
      abi: EscrowAbi,
      eventName: "Withdrawn",
      args: { consumer: w.fromAddress as Address },
      fromBlock: req.blockNumber,
    });
    const l = logs[0];
    return l ? { paid: l.args.amount ?? 0n, tx: l.transactionHash } : undefined;
  }

  /**
   * The payout is signed here, its hash recorded, and only then broadcast, so no crash can leave a
   * sent transfer unrecorded. A recorded hash the chain does not know (a crash between the record
   * and the broadcast, or a dropped transaction) is signed again: the new one takes the custodial
   * address's next nonce, which is the old one's (nothing else is sent from that address in this
   * step), so at most one of the two can ever be mined.
   */
  private async transfer(w: ChainWithdrawalRow): Promise<void> {
    const pub = this.d.clients.public;
    let tx = w.transferTx as Hex | null;
    if (
      tx &&
      !(await pub.getTransaction({ hash: tx }).then(
        () => true,
        () => false,
      ))
    )
      tx = null;
    if (!tx) {
      const wallet = this.wallet(w.consumerId);
      await this.ensureGas(wallet.account.address);
      const request = await wallet.prepareTransactionRequest({
        chain: wallet.chain ?? null,
        to: this.d.deployment.token,
        data: encodeFunctionData({
          abi: TestTokenAbi,
          functionName: "transfer",
          args: [w.toAddress as Address, w.paid ?? 0n],
        }),
      });
      const raw = await wallet.signTransaction(request);
      tx = keccak256(raw);
      await this.save(w, { transferTx: tx });
      await wallet.sendRawTransaction({ serializedTransaction: raw });
    }
    const r = await pub.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    if (r.status !== "success") {
      await this.save(w, { transferTx: null });
      throw new Error(`transfer ${tx} reverted`);
    }
    await this.save(w, { status: "paid", error: null });
    this.d.log.info(
      { consumerId: w.consumerId, to: w.toAddress, amount: (w.paid ?? 0n).toString(), tx },
      "withdrawal paid out",
    );
  }

  private wallet(consumerId: string) {
    return createWalletClient({
      chain: this.d.clients.wallet.chain,
      transport: http(this.d.rpc),
      account: this.d.custody.account(consumerId),
    });
  }

  private async ensureGas(address: Address): Promise<void> {
    const have = await this.d.clients.public.getBalance({ address });
    if (have >= GAS_TOPUP / 2n) return;
    const send = async () => {
      const hash = await this.d.clients.wallet.sendTransaction({
        to: address,
        value: GAS_TOPUP - have,
        chain: this.d.clients.wallet.chain ?? null,
        account: this.d.clients.wallet.account,
      });
      await this.d.clients.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    };
    await (this.d.exclusive ? this.d.exclusive(send) : send());
  }

  private async save(w: ChainWithdrawalRow, change: Partial<ChainWithdrawalRow>): Promise<void> {
    Object.assign(w, change, { updatedAt: this.now() });
    await this.d.store.withdrawals.putWithdrawal(w);
  }

  async list(consumerId: string): Promise<ChainWithdrawalRow[]> {
    return this.d.store.withdrawals.withdrawalsOf(consumerId, 50);
  }
}
