// Chain-side values that travel on the provider channel under on-chain settlement: addresses and
// 65-byte secp256k1 signatures as 0x-hex (EIP-712 evidence for the Slashing contract).
import { z } from "zod";

export const EthAddressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte address");
export const EthSignatureSchema = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 0x-prefixed 65-byte signature");
