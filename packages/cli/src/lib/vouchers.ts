// Fetches a provider's latest payment vouchers from its gateway with a request signed by the
// node key (GET /v1/provider/vouchers), validated before anything goes on chain.
import type { SignedVoucher } from "@tessera/chain";
import { type Identity, signNodeRequest } from "@tessera/protocol";
import { getAddress, type Hex } from "viem";
import { z } from "zod";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .transform((a) => getAddress(a));
const VouchersResponse = z.object({
  providerId: z.string(),
  chainId: z.number().int(),
  escrow: z.string(),
  vouchers: z.array(
    z.object({
      consumer: address,
      provider: address,
      cumulative: z
        .string()
        .regex(/^[0-9]+$/)
        .transform((s) => BigInt(s)),
      signature: z
        .string()
        .regex(/^0x[0-9a-fA-F]+$/)
        .transform((s) => s as Hex),
    }),
  ),
});

export function httpBase(gateway: string): string {
  return gateway.replace(/^ws(s?):\/\//, "http$1://").replace(/\/+$/, "");
}

export async function fetchVouchers(
  gateway: string,
  identity: Identity,
): Promise<{ chainId: number; escrow: string; vouchers: SignedVoucher[] }> {
  const path = "/v1/provider/vouchers";
  const res = await fetch(`${httpBase(gateway)}${path}`, {
    headers: signNodeRequest(identity, `GET ${path}`, Date.now()),
  });
  if (!res.ok) throw new Error(`gateway answered ${res.status} for ${path}: ${await res.text()}`);
  const body = VouchersResponse.parse(await res.json());
  return { chainId: body.chainId, escrow: body.escrow, vouchers: body.vouchers };
}
