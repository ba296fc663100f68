// The EVM settlement adapter. Consumers' money lives in the Escrow contract; the local ledger
// stays the gateway's book of record and mirrors the chain (deposits credited from Deposited
// logs, redemptions debited from Redeemed logs, chain-watch.ts). A submit is admitted against the
// on-chain deposit less what the consumer already owes; after each settle the gateway signs, as
// the consumer's custodian, a new cumulative EIP-712 voucher for the consumer–provider pair —
// unless the consumer bound its own address and signs its vouchers itself (self-signed.ts).
// Under --chain-confirmations n, deposits are credited and the headroom read at head − n: a deposit
// is neither credited nor spendable until a reorg that deep is the only way to take it back.
import { type Deployment, EscrowAbi, signVoucher } from "@tessera/chain";
import {
  accounts,
  chainEventId,
  chainHeadroom,
  depositEvent,
  type JobRecord,
  type LedgerEvent,
  voucherDue,
} from "@tessera/core";
import { InsufficientBalance, type ResultMessage } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import { type Address, getAddress, type Hex, type PublicClient } from "viem";
import type { ProviderSession } from "../engine/sessions.js";
import type { GroupWriter } from "../engine/writer.js";
import { confirmedHead, type ReadAt } from "./confirmed.js";
import type { Custody } from "./custody.js";
import type { ChainEvidence } from "./evidence.js";
import type { SelfSignedVouchers } from "./self-signed.js";
import type { Settlement, SettlementAccount, VoucherView } from "./settlement.js";

export interface EvmDeps {
  store: Store;
  writer: Pick<GroupWriter, "write">;
  client: PublicClient;
  deployment: Deployment;
  custody: Custody;
  /** EIP-712 slashing evidence of results (evidence.ts) */
  evidence: ChainEvidence;
  /** consumers who bound their own address and sign their own vouchers */
  selfSigned: SelfSignedVouchers;
  log: Logger;
  /** how deep a block must be before its deposits count (--chain-confirmations; 0: the head) */
  confirmations?: number;
  now?: () => number;
}

export class EvmSettlement implements Settlement {
  readonly backend = "evm" as const;
  private readonly pairs = new Map<string, Promise<void>>();
  private readonly mirrored = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly d: EvmDeps) {
    this.now = d.now ?? Date.now;
  }

  info() {
    const { chainId, escrow, token } = this.d.deployment;
    return { backend: this.backend, chainId, escrow, token };
  }

  welcomeChain() {
    return this.d.evidence.domain();
  }

  leaseEvidence(job: JobRecord, session: ProviderSession) {
    return this.d.evidence.leaseEvidence(job, session);
  }

  acceptResult(job: JobRecord, session: ProviderSession, msg: ResultMessage) {
    return this.d.evidence.acceptResult(job, session, msg);
  }

  /** The consumer's own bound address, or its custodial one (recorded so chain logs map back to it). */
  async addressOf(consumerId: string): Promise<Address> {
    const own = this.d.selfSigned.addressOf(consumerId);
    if (own) return own;
    const address = this.d.custody.account(consumerId).address;
    await this.d.store.settlement.putChainAccount(consumerId, address);
    return address;
  }

  /** The block chain reads act on: head − confirmations, undefined while none is that deep. */
  private async readAt(): Promise<ReadAt | undefined> {
    const n = this.d.confirmations ?? 0;
    if (n === 0) return "latest";
    return confirmedHead(await this.d.client.getBlockNumber(), n);
  }

  /**
   * The consumer's Escrow balance, pending withdrawal and redemptions, all as of one block: balanceOf
   * falls by each redemption, so reading it and the Redeemed logs at different blocks would count a
   * redemption in between twice or not at all.
   */
  private async escrowState(address: Address, at: ReadAt | undefined) {
    if (at === undefined) return { deposit: 0n, pending: 0n, redeemedLogs: [] };
    const { escrow } = this.d.deployment;
    const block = at === "latest" ? { blockTag: at } : { blockNumber: at };
    const [deposit, pending, redeemedLogs] = await Promise.all([
      this.d.client.readContract({
        address: escrow,
        abi: EscrowAbi,
        functionName: "balanceOf",
        args: [address],
        ...block,
      }),
      this.d.client.readContract({
        address: escrow,
        abi: EscrowAbi,
        functionName: "pendingWithdrawal",
        args: [address],
        ...block,
      }),
      this.d.client.getContractEvents({
        address: escrow,
        abi: EscrowAbi,
        eventName: "Redeemed",
        args: { consumer: address },
        fromBlock: 0n,
        toBlock: at,
      }),
    ]);
    return { deposit, pending: pending[0], redeemedLogs };
  }

  private async position(consumerId: string) {
    const address = await this.addressOf(consumerId);
    const at = await this.readAt();
    if (at !== undefined) await this.creditDeposits(consumerId, address, 0n, at);
    const [{ deposit, pending, redeemedLogs }, settled, openEscrow] = await Promise.all([
      this.escrowState(address, at),
      this.d.store.spent(consumerId),
      this.d.store.balance(accounts.escrow(consumerId)),
    ]);
    // redeemed per provider is the highest cumulative it has redeemed
    const perProvider = new Map<string, bigint>();
    for (const l of redeemedLogs) {
      const p = l.args.provider ?? "";
      const c = l.args.cumulative ?? 0n;
      if (c > (perProvider.get(p) ?? 0n)) perProvider.set(p, c);
    }
    // only a redemption of a voucher this gateway recorded pays off settled work: one the consumer's
    // key signed to itself or an accomplice (Escrow lets any named provider redeem at once) takes
    // money out of the deposit and pays no provider, so it must not count as settled work redeemed
    const paid = await Promise.all(
      [...perProvider].map(async ([p, c]) =>
        (await this.d.store.settlement.voucherByAddresses(address, p, c)) ? c : 0n,
      ),
    );
    const redeemed = paid.reduce((s, c) => s + c, 0n);
    return { address, deposit, settled, redeemed, openEscrow, pendingWithdrawal: pending };
  }

  /** What the consumer could still commit or withdraw (chainHeadroom), never below zero. */
  async headroom(consumerId: string): Promise<bigint> {
    const room = chainHeadroom(await this.position(consumerId));
    return room > 0n ? room : 0n;
  }

  async admit(consumerId: string, amount: bigint): Promise<void> {
    const p = await this.position(consumerId);
    const room = chainHeadroom(p);
    if (room < amount) throw new InsufficientBalance(amount, room > 0n ? room : 0n);
    if (this.d.selfSigned.addressOf(consumerId)) await this.d.selfSigned.admit(consumerId, amount, p.openEscrow);
  }

  /**
   * Binds the consumer's own address (signed by it); refused once the consumer has custodial
   * money or settled work, whose vouchers and deposit belong to the custodial address.
   */
  bind(consumerId: string, address: string, signature: Hex) {
    return this.d.selfSigned.bind(consumerId, address, signature, async () => {
      if (this.d.selfSigned.addressOf(consumerId)) return false;
      const custodial = this.d.custody.account(consumerId).address;
      const [pairs, available, held, onChain] = await Promise.all([
        this.d.store.bindings.pairTotals(consumerId),
        this.d.store.balance(accounts.available(consumerId)),
        this.d.store.balance(accounts.escrow(consumerId)),
        this.d.client.readContract({
          address: this.d.deployment.escrow,
          abi: EscrowAbi,
          functionName: "balanceOf",
          args: [custodial],
        }),
      ]);
      return pairs.length > 0 || available > 0n || held > 0n || onChain > 0n;
    });
  }

  /**
   * Credits the local ledger with every Deposited log of this consumer up to `toBlock` not yet
   * mirrored; by default up to the confirmed block, and nothing while no block is confirmed.
   */
  async creditDeposits(consumerId: string, address: Address, fromBlock = 0n, toBlock?: ReadAt): Promise<void> {
    const to = toBlock ?? (await this.readAt());
    if (to === undefined || (typeof to === "bigint" && to < fromBlock)) return;
    const logs = await this.d.client.getContractEvents({
      address: this.d.deployment.escrow,
      abi: EscrowAbi,
      eventName: "Deposited",
      args: { consumer: address },
      fromBlock,
      toBlock: to,
    });
    for (const l of logs) {
      const id = chainEventId(this.d.deployment.chainId, l.transactionHash, l.logIndex);
      if (this.mirrored.has(id) || !l.args.amount) continue;
      const r = await this.d.writer.write({ ledger: depositEvent(id, consumerId, l.args.amount, this.now()) });
      if (!r.ok) throw r.error;
      if (r.ledgerApplied)
        this.d.log.info(
          { consumerId, amount: l.args.amount.toString(), tx: l.transactionHash },
          "deposit credited from chain",
        );
      this.mirrored.add(id);
    }
  }

  committed(event: LedgerEvent, job: JobRecord): void {
    if (event.kind !== "settle" || !job.providerId) return;
    // the consumer signs for itself: what is due is derived from the ledger when it asks
    if (this.d.selfSigned.addressOf(job.consumerId)) return;
    const providerId = job.providerId;
    const key = `${job.consumerId}\n${providerId}`;
    const next = (this.pairs.get(key) ?? Promise.resolve())
      .then(() => this.signLatest(job.consumerId, providerId))
      .catch((err) =>
        this.d.log.error({ err, jobId: job.id, providerId, consumerId: job.consumerId }, "voucher signing failed"),
      );
    this.pairs.set(key, next);
  }

  /** Signs a voucher for the pair's whole settled total if it grew. Derived from the ledger, so idempotent. */
  async signLatest(consumerId: string, providerId: string): Promise<void> {
    const provider = await this.d.store.getProvider(providerId);
    const ethAddress = provider?.capabilities.ethAddress;
    if (!ethAddress) {
      this.d.log.warn(
        { providerId, consumerId },
        "provider advertises no ethAddress: its earnings stay on the local ledger",
      );
      return;
    }
    const [totals, latest] = await Promise.all([
      this.d.store.settlement.pairTotals(consumerId, providerId),
      this.d.store.settlement.latestVoucher(consumerId, providerId),
    ]);
    if (!voucherDue(latest?.cumulative, totals.gross)) return;
    // a cumulative voucher to a new address would pay again what the old one redeemed
    if (latest && latest.providerAddress !== ethAddress.toLowerCase()) {
      this.d.log.error(
        { providerId, was: latest.providerAddress, now: ethAddress },
        "provider changed its ethAddress; not signing",
      );
      return;
    }
    const signer = this.d.custody.account(consumerId);
    const voucher = { consumer: signer.address, provider: getAddress(ethAddress), cumulative: totals.gross };
    const signature = await signVoucher(signer, this.d.deployment.chainId, this.d.deployment.escrow, voucher);
    await this.d.store.settlement.putVoucher({
      consumerId,
      providerId,
      consumerAddress: signer.address,
      providerAddress: voucher.provider,
      cumulative: totals.gross,
      net: totals.net,
      signature,
      redeemed: false,
      at: this.now(),
    });
    this.d.log.info({ consumerId, providerId, cumulative: totals.gross.toString() }, "voucher signed");
  }

  /** Waits for vouchers being signed (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.pairs.values());
  }

  async account(consumerId: string): Promise<SettlementAccount> {
    const p = await this.position(consumerId);
    const room = chainHeadroom(p);
    return {
      backend: "evm",
      consumerId,
      address: p.address,
      deposit: p.deposit.toString(),
      headroom: (room > 0n ? room : 0n).toString(),
      pendingWithdrawal: p.pendingWithdrawal.toString(),
      ...(this.d.selfSigned.addressOf(consumerId)
        ? { signer: "consumer" as const, unsigned: (await this.d.selfSigned.unsigned(consumerId)).toString() }
        : { signer: "custodian" as const }),
    };
  }

  async vouchers(providerId: string) {
    await this.idle();
    const rows = await this.d.store.settlement.providerVouchers(providerId);
    const vouchers: VoucherView[] = rows.map((v) => ({
      consumer: getAddress(v.consumerAddress),
      provider: getAddress(v.providerAddress),
      cumulative: v.cumulative.toString(),
      signature: v.signature,
    }));
    return { chainId: this.d.deployment.chainId, escrow: this.d.deployment.escrow, vouchers };
  }

  async stop(): Promise<void> {
    await this.idle();
  }
}
