// For consumers who hold their own chain key under on-chain settlement: bind the key's address to
// the API key once, then sign the cumulative EIP-712 vouchers the gateway says are due. What is
// signed is rebuilt here from checked fields, never taken whole from the gateway.
import { type Address, getAddress, type Hex, isAddressEqual, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { TesseraClient } from "./client.js";
import type { SignedVoucherView, VoucherDueView } from "./types.js";

const VOUCHER_TYPES = {
  Voucher: [
    { name: "consumer", type: "address" },
    { name: "provider", type: "address" },
    { name: "cumulative", type: "uint256" },
  ],
} as const;

const STALE = new Set(["wrong_amount", "nothing_due"]);

export interface VoucherSignerOptions {
  client: TesseraClient;
  /** the consumer's chain key: a viem local account or a 0x private key */
  account: LocalAccount | Hex;
  /** start(): how often due vouchers are looked for (default 1 s) */
  intervalMs?: number;
  /** start(): called with each voucher handed in, and with each failed pass */
  onSigned?: (v: SignedVoucherView) => void;
  onError?: (err: unknown) => void;
  /** the gateway's escrow when the caller has already asked for it (chainSettlement) */
  escrow?: { chainId: number; escrow: Address };
}

/** The gateway's escrow, or a clear error when it settles on its local ledger (nothing to sign). */
export async function chainSettlement(client: TesseraClient): Promise<{ chainId: number; escrow: Address }> {
  const info = await client.settlementInfo();
  if (info.backend !== "evm" || info.chainId === undefined || !info.escrow)
    throw new Error("this gateway does not settle on chain: there is no address to bind and no voucher to sign");
  return { chainId: info.chainId, escrow: getAddress(info.escrow) };
}

export class VoucherSigner {
  readonly account: LocalAccount;
  private domain: { chainId: number; escrow: Address } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly o: VoucherSignerOptions) {
    this.account = typeof o.account === "string" ? privateKeyToAccount(o.account) : o.account;
    this.domain = o.escrow;
  }

  get address(): Address {
    return this.account.address;
  }

  /** Binds this account's address to the consumer (nothing to do when it already is). */
  async bind(): Promise<{ address: string; created: boolean }> {
    await this.escrow();
    const view = await this.o.client.settlementAddress();
    if (view.address && isAddressEqual(view.address as Address, this.address))
      return { address: view.address, created: false };
    if (!view.message) throw new Error("the gateway sent no bind message");
    const signature = await this.account.signMessage?.({ message: view.message });
    if (!signature) throw new Error("this account cannot sign messages");
    const r = await this.o.client.bindAddress(this.address, signature);
    return { address: r.address ?? this.address, created: true };
  }

  /** One pass: signs every due voucher and hands it in. Answers those the gateway took. */
  async signDue(): Promise<SignedVoucherView[]> {
    const domain = await this.escrow();
    const due = await this.o.client.vouchersDue();
    if (!isAddressEqual(due.consumer as Address, this.address))
      throw new Error(`the gateway signs as ${due.consumer}, not this key's ${this.address}`);
    const out: SignedVoucherView[] = [];
    for (const v of due.data) {
      try {
        out.push(await this.signOne(v, domain));
      } catch (e) {
        // a job settled between reading and handing in: the next pass signs the new total
        if (STALE.has((e as { code?: string }).code ?? "")) continue;
        throw e;
      }
    }
    return out;
  }

  /** Keeps signing what falls due, every intervalMs, until stop(). */
  start(): void {
    this.stopped = false;
    const tick = () => {
      this.running = this.signDue()
        .then((vs) => {
          for (const v of vs) this.o.onSigned?.(v);
        })
        .catch((err) => this.o.onError?.(err))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, this.o.intervalMs ?? 1_000);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async escrow(): Promise<{ chainId: number; escrow: Address }> {
    this.domain ??= await chainSettlement(this.o.client);
    return this.domain;
  }

  private async signOne(v: VoucherDueView, d: { chainId: number; escrow: Address }): Promise<SignedVoucherView> {
    const t = v.typedData;
    // the gateway's view must name this escrow, this key and the same amount it says is due
    if (
      t.primaryType !== "Voucher" ||
      t.domain.chainId !== d.chainId ||
      !isAddressEqual(t.domain.verifyingContract as Address, d.escrow) ||
      !isAddressEqual(t.message.consumer as Address, this.address) ||
      !isAddressEqual(t.message.provider as Address, v.provider as Address) ||
      t.message.cumulative !== v.cumulative
    )
      throw new Error(`voucher for ${v.providerId}: the typed data does not match this escrow, key or amount`);
    const cumulative = BigInt(v.cumulative);
    if (!this.account.signTypedData) throw new Error("this account cannot sign typed data");
    const signature = await this.account.signTypedData({
      domain: { name: "TesseraEscrow", version: "1", chainId: d.chainId, verifyingContract: d.escrow },
      types: VOUCHER_TYPES,
      primaryType: "Voucher",
      message: { consumer: this.address, provider: getAddress(v.provider), cumulative },
    });
    return this.o.client.submitVoucher(v.providerId, cumulative, signature);
  }
}
