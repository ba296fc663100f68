// A provider collecting what it is owed: of the vouchers its gateway signed, redeem each one
// whose cumulative is above what the Escrow contract has already paid this provider for that
// consumer — one transaction per consumer, however many jobs it covers.
import { type Address, getAddress, type Hex } from "viem";
import type { Clients } from "../deploy/deploy.js";
import { EscrowAbi } from "../generated/index.js";

export interface SignedVoucher {
  consumer: Address;
  provider: Address;
  cumulative: bigint;
  signature: Hex;
}

/** Pure: the vouchers worth a transaction, given what has been redeemed on chain per consumer. */
export function vouchersToRedeem(
  me: Address,
  vouchers: SignedVoucher[],
  redeemed: (consumer: Address) => bigint,
): SignedVoucher[] {
  return vouchers.filter((v) => getAddress(v.provider) === getAddress(me) && v.cumulative > redeemed(v.consumer));
}

export interface Redemption {
  consumer: Address;
  cumulative: bigint;
  owed: bigint;
  tx: Hex;
  gasUsed: bigint;
}

export async function redeemVouchers(c: Clients, escrow: Address, vouchers: SignedVoucher[]): Promise<Redemption[]> {
  const me = c.wallet.account.address;
  const already = new Map<Address, bigint>();
  for (const v of vouchers)
    already.set(
      v.consumer,
      await c.public.readContract({
        address: escrow,
        abi: EscrowAbi,
        functionName: "redeemed",
        args: [v.consumer, me],
      }),
    );
  const out: Redemption[] = [];
  for (const v of vouchersToRedeem(me, vouchers, (a) => already.get(a) ?? 0n)) {
    const tx = await c.wallet.writeContract({
      address: escrow,
      abi: EscrowAbi,
      functionName: "redeem",
      args: [{ consumer: v.consumer, provider: v.provider, cumulative: v.cumulative }, v.signature],
      chain: c.wallet.chain ?? null,
      account: c.wallet.account,
    });
    const r = await c.public.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    if (r.status !== "success") throw new Error(`redeem ${tx} reverted`);
    out.push({
      consumer: v.consumer,
      cumulative: v.cumulative,
      owed: v.cumulative - (already.get(v.consumer) ?? 0n),
      tx,
      gasUsed: r.gasUsed,
    });
  }
  return out;
}
