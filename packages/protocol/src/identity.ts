// ed25519 identities for providers, verifiers and gateways. A node's id is the hex of its
// raw 32-byte public key, so anyone can check a signature from the id alone.
import {
  createPrivateKey,
  createPublicKey,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";

export interface Identity {
  /** hex of the raw ed25519 public key (64 chars) */
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const KeyFileSchema = z.object({
  type: z.literal("tessera-ed25519"),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  privateKey: z.string().min(1),
});

// DER prefix of an SPKI-wrapped ed25519 public key; appending the 32 raw bytes gives the SPKI.
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function rawPublicKeyHex(publicKey: KeyObject): string {
  const der = publicKey.export({ format: "der", type: "spki" });
  return Buffer.from(der.subarray(der.length - 32)).toString("hex");
}

export function publicKeyFromId(id: string): KeyObject {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`not an ed25519 node id: ${id}`);
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(id, "hex")]),
    format: "der",
    type: "spki",
  });
}

export function generateIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { id: rawPublicKeyHex(publicKey), privateKey, publicKey };
}

export function saveKeyFile(path: string, identity: Identity): void {
  mkdirSync(dirname(path), { recursive: true });
  const file = {
    type: "tessera-ed25519",
    publicKey: identity.id,
    privateKey: identity.privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
  };
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function loadKeyFile(path: string): Identity {
  const parsed = KeyFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`${path} is not a tessera key file: ${parsed.error.message}`);
  const privateKey = createPrivateKey({
    key: Buffer.from(parsed.data.privateKey, "base64"),
    format: "der",
    type: "pkcs8",
  });
  const publicKey = createPublicKey(privateKey);
  const id = rawPublicKeyHex(publicKey);
  if (id !== parsed.data.publicKey) throw new Error(`${path}: public key does not match private key`);
  return { id, privateKey, publicKey };
}

/** Loads the key file, creating it with a fresh identity when it does not exist yet. */
export function loadOrCreateKeyFile(path: string): Identity {
  if (existsSync(path)) return loadKeyFile(path);
  const identity = generateIdentity();
  saveKeyFile(path, identity);
  return identity;
}

export function signBytes(identity: Identity, bytes: Uint8Array): string {
  return edSign(null, bytes, identity.privateKey).toString("base64");
}

// Parsing a DER key costs about as much as the check itself; a gateway verifies the same few
// hundred nodes' keys over and over. Bounded: cleared whole when full (ids are 64 hex chars).
const verifyKeys = new Map<string, KeyObject>();
const MAX_VERIFY_KEYS = 4096;

function cachedPublicKey(id: string): KeyObject {
  let key = verifyKeys.get(id);
  if (!key) {
    key = publicKeyFromId(id);
    if (verifyKeys.size >= MAX_VERIFY_KEYS) verifyKeys.clear();
    verifyKeys.set(id, key);
  }
  return key;
}

export function verifyBytes(id: string, bytes: Uint8Array, signature: string): boolean {
  try {
    return edVerify(null, bytes, cachedPublicKey(id), Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
