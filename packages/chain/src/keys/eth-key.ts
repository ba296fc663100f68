// A node's secp256k1 key for the chain (the address that redeems its vouchers), kept in a JSON
// file beside its ed25519 node key and created on first use with owner-only permissions.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeSecretFileSync } from "@tessera/protocol";
import type { Hex } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { z } from "zod";

const EthKeyFile = z.strictObject({
  type: z.literal("tessera-secp256k1"),
  address: z.string(),
  privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
});

export function loadOrCreateEthKey(file: string): { address: Hex; privateKey: Hex; account: PrivateKeyAccount } {
  if (!existsSync(file)) {
    const privateKey = generatePrivateKey();
    const address = privateKeyToAccount(privateKey).address;
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeSecretFileSync(file, `${JSON.stringify({ type: "tessera-secp256k1", address, privateKey }, null, 2)}\n`);
    } catch (err) {
      throw new Error(`--eth-key ${file}: cannot create key file (${(err as Error).message})`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`--eth-key ${file}: cannot read key file (${(e as Error).message})`);
  }
  const parsed = EthKeyFile.safeParse(raw);
  if (!parsed.success) throw new Error(`--eth-key ${file}: not a tessera-secp256k1 key file`);
  const privateKey = parsed.data.privateKey as Hex;
  const account = privateKeyToAccount(privateKey);
  return { address: account.address, privateKey, account };
}
