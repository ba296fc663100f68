// Non-custodial consumers under --settlement evm: a consumer binds its own chain address (signed
// by that address) and from then on signs its own cumulative vouchers. The gateway never signs for
// it; it says what is due per provider, takes a voucher only for exactly that amount signed by the
// bound address, and stops admitting work while too much settled work is unsigned (voucherCredit).
import { type Deployment, escrowDomain, voucherTypes } from "@tessera/chain";
import { type PairDue, unsignedTotal, voucherCheck, voucherCredit } from "@tessera/core";
import { TesseraError } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import { type Address, getAddress, type Hex, isAddress, recoverMessageAddress, recoverTypedDataAddress } from "viem";

export interface SelfSignedDeps {
  store: Store;
  deployment: Deployment;
  log: Logger;
  /** the most settled work a consumer may leave unsigned, counting open jobs (--voucher-credit) */
  creditLimit: bigint;
  now?: () => number;
}

/** One provider's voucher the consumer owes: the EIP-712 typed data to sign, as JSON. */
export interface DueVoucher {
  providerId: string;
  provider: Address;
  /** cumulative the voucher must carry: the pair's settled gross */
  cumulative: bigint;
  /** cumulative of the latest voucher already signed (0 when none) */
  signed: bigint;
  /** the provider's local net for the same jobs (kept with the voucher for the redemption mirror) */
  net: bigint;
}

const refuse = (code: string, status: number, message: string) =>
  new TesseraError(code, status, message, "invalid_request_error");

export class SelfSignedVouchers {
  private readonly bound = new Map<string, Address>();
  private readonly serial = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly d: SelfSignedDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Loads every binding, so lookups on the hot path (lease evidence, settle) need no query. */
  async load(): Promise<void> {
    for (const b of await this.d.store.bindings.bindings()) this.bound.set(b.consumerId, getAddress(b.address));
  }

  addressOf(consumerId: string): Address | undefined {
    return this.bound.get(consumerId);
  }

  /** What the consumer's address signs (EIP-191) to bind itself: names the consumer and the escrow. */
  bindMessage(consumerId: string): string {
    const { chainId, escrow } = this.d.deployment;
    return [
      "Tessera: I sign my own payment vouchers for this consumer account.",
      `Consumer: ${consumerId}`,
      `Chain: ${chainId}`,
      `Escrow: ${getAddress(escrow)}`,
    ].join("\n");
  }

  /**
   * Binds `address` after checking `signature` is its signature over bindMessage. `hasHistory`
   * says whether the consumer already holds custodial money or settled work, which a new
   * address could not account for.
   */
  async bind(
    consumerId: string,
    address: string,
    signature: Hex,
    hasHistory: () => Promise<boolean>,
  ): Promise<{ address: Address; created: boolean }> {
    if (!isAddress(address, { strict: false })) throw refuse("invalid_request", 400, "address: not a 0x address");
    const want = getAddress(address);
    let signer: Address;
    try {
      signer = await recoverMessageAddress({ message: this.bindMessage(consumerId), signature });
    } catch {
      throw refuse("bad_signature", 400, "signature: not a signature over the bind message");
    }
    if (signer !== want) throw refuse("wrong_signer", 403, `The bind message was signed by ${signer}, not by ${want}.`);
    return this.once(consumerId, async () => {
      const held = this.bound.get(consumerId);
      if (held === want) return { address: want, created: false };
      if (held) throw refuse("already_bound", 409, `This consumer already signs its vouchers as ${held}.`);
      if (await hasHistory())
        throw refuse(
          "custodial_history",
          409,
          "This consumer already has custodial money or settled work; bind an address on a fresh consumer.",
        );
      const r = await this.d.store.bindings.bind({ consumerId, address: want, boundAt: this.now(), signature });
      if (r === "taken") throw refuse("address_taken", 409, `${want} is bound to another consumer.`);
      this.bound.set(consumerId, want);
      this.d.log.info({ consumerId, address: want }, "consumer bound its own chain address");
      return { address: want, created: true };
    });
  }

  /** Per provider with an eth address: what the next voucher must carry, when it grew past the last signed. */
  async due(consumerId: string): Promise<DueVoucher[]> {
    const out: DueVoucher[] = [];
    for (const t of await this.d.store.bindings.pairTotals(consumerId)) {
      const [provider, latest] = await Promise.all([
        this.d.store.getProvider(t.providerId),
        this.d.store.settlement.latestVoucher(consumerId, t.providerId),
      ]);
      const eth = provider?.capabilities.ethAddress;
      // earnings of a provider without an address stay on the local ledger, as for custodial consumers;
      // a provider that changed address gets no new voucher (it would pay twice)
      if (!eth || (latest && latest.providerAddress !== eth.toLowerCase())) continue;
      const signed = latest?.cumulative ?? 0n;
      if (t.gross <= signed) continue;
      out.push({ providerId: t.providerId, provider: getAddress(eth), cumulative: t.gross, signed, net: t.net });
    }
    return out;
  }

  /** The EIP-712 typed data of a due voucher, ready for `signTypedData`. */
  typedData(consumer: Address, v: Pick<DueVoucher, "provider" | "cumulative">) {
    return {
      domain: escrowDomain(this.d.deployment.chainId, this.d.deployment.escrow),
      types: voucherTypes,
      primaryType: "Voucher" as const,
      message: { consumer, provider: v.provider, cumulative: v.cumulative },
    };
  }

  /** Settled work not yet covered by the consumer's vouchers. */
  async unsigned(consumerId: string): Promise<bigint> {
    const pairs: PairDue[] = (await this.due(consumerId)).map((v) => ({ settled: v.cumulative, signed: v.signed }));
    return unsignedTotal(pairs);
  }

  /** Throws 402 when this job could take unsigned settled work past the credit limit. */
  async admit(consumerId: string, amount: bigint, openEscrow: bigint): Promise<void> {
    const unsigned = await this.unsigned(consumerId);
    const limit = this.d.creditLimit;
    const c = voucherCredit({ unsigned, openEscrow, amount, limit });
    if (c.ok) return;
    if (c.reason === "too_large")
      throw new TesseraError(
        "voucher_credit_too_small",
        402,
        `This job may cost up to ${amount} nc, more than this gateway's voucher credit of ${limit} nc for consumers who sign their own vouchers.`,
        "insufficient_quota",
      );
    throw new TesseraError(
      "vouchers_unsigned",
      402,
      `Sign your due vouchers first (GET /v1/settlement/vouchers/due): ${unsigned} nc of settled work is unsigned and ${openEscrow} nc is held for open jobs; with this job's ${amount} nc that passes the voucher credit of ${limit} nc.`,
      "insufficient_quota",
    );
  }

  /**
   * Takes the consumer's signed voucher for one provider: it must carry exactly what is due and be
   * signed by the bound address for this escrow and chain. Nothing is stored otherwise.
   */
  async accept(consumerId: string, providerId: string, cumulative: bigint, signature: Hex): Promise<DueVoucher> {
    const consumer = this.bound.get(consumerId);
    if (!consumer)
      throw refuse("not_bound", 409, "This consumer's vouchers are signed by the gateway; bind an address first.");
    return this.once(consumerId, async () => {
      const due = (await this.due(consumerId)).find((v) => v.providerId === providerId);
      // a replay of the latest voucher finds nothing due: the settled total is already signed
      if (!due) throw refuse("nothing_due", 409, `No voucher is due to provider ${providerId}.`);
      const check = voucherCheck({ settled: due.cumulative, signed: due.signed }, cumulative);
      if (!check.ok)
        throw refuse(
          check.reason,
          409,
          check.reason === "nothing_due"
            ? `No voucher is due to provider ${providerId}.`
            : `The voucher to ${providerId} must carry exactly ${due.cumulative} nc, the settled total, not ${cumulative}.`,
        );
      let signer: Address;
      try {
        signer = await recoverTypedDataAddress({ ...this.typedData(consumer, due), signature });
      } catch {
        throw refuse("bad_signature", 400, "signature: not an EIP-712 signature");
      }
      if (signer !== consumer)
        throw refuse(
          "wrong_signer",
          403,
          `The voucher is not signed by ${consumer} for Escrow ${this.d.deployment.escrow} on chain ${this.d.deployment.chainId}.`,
        );
      await this.d.store.settlement.putVoucher({
        consumerId,
        providerId,
        consumerAddress: consumer,
        providerAddress: due.provider,
        cumulative,
        net: due.net,
        signature,
        redeemed: false,
        at: this.now(),
      });
      this.d.log.info({ consumerId, providerId, cumulative: cumulative.toString() }, "voucher signed by the consumer");
      return due;
    });
  }

  /** one change at a time per consumer: a bind, or a voucher checked against what is due */
  private once<T>(consumerId: string, f: () => Promise<T>): Promise<T> {
    const run = (this.serial.get(consumerId) ?? Promise.resolve()).then(f, f);
    this.serial.set(
      consumerId,
      run.catch(() => {}),
    );
    return run;
  }
}
