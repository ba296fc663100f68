// Custodial chain keys for consumers who use plain OpenAI clients: the gateway derives one
// secp256k1 key per consumer from a secret seed and signs that consumer's vouchers with it.
// Such consumers trust this gateway with their deposit; nothing about it is hidden.
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";

export class Custody {
  private readonly cache = new Map<string, PrivateKeyAccount>();
  constructor(private readonly seed: Buffer) {
    if (seed.length < 32) throw new Error("custody seed must be at least 32 bytes");
  }

  /** Reads the seed from `file`, creating it (mode 0600) when missing; no file: a random seed. */
  static open(file: string | undefined): Custody {
    if (!file) return new Custody(randomBytes(32));
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    }
    return new Custody(Buffer.from(readFileSync(file, "utf8").trim(), "hex"));
  }

  account(consumerId: string): PrivateKeyAccount {
    let a = this.cache.get(consumerId);
    if (!a) {
      const key = createHmac("sha256", this.seed).update(`tessera.custody.v1:${consumerId}`).digest("hex");
      a = privateKeyToAccount(`0x${key}`);
      this.cache.set(consumerId, a);
    }
    return a;
  }
}
