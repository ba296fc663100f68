// ed25519 identities for providers, verifiers and gateways. A node's id is the hex of its
// raw 32-byte public key, so anyone can check a signature from the id alone.
import {
  createPrivateKey,
  createPublicKey,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
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
  writeSecretFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * Writes a key file owner-only, through a temp file and a rename: a write that fails (disk full)
 * or is cut short leaves no empty or half key file behind, which every later start would refuse
 * as "not JSON" until removed by hand. Also used for the chain's --eth-key files.
 */
export function writeSecretFileSync(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    throw err;
  }
}

export interface LoadKeyFileOptions {
  /** told of a problem that does not stop the key from loading (a file others can read) */
  onWarning?(message: string): void;
}

/** Loads a key file; every way it can be wrong is one line naming the file. */
export function loadKeyFile(path: string, options: LoadKeyFileOptions = {}): Identity {
  const notKeyFile = (what: string) => new Error(`${path} is not a Tessera key file: ${what}`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read key file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw notKeyFile("not JSON");
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`);
    throw notKeyFile(issues.join("; "));
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: Buffer.from(parsed.data.privateKey, "base64"),
      format: "der",
      type: "pkcs8",
    });
  } catch {
    throw notKeyFile("privateKey is not a base64 PKCS#8 ed25519 key (truncated or damaged?)");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw notKeyFile(`privateKey is a ${privateKey.asymmetricKeyType ?? "unknown"} key, not ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  const id = rawPublicKeyHex(publicKey);
  if (id !== parsed.data.publicKey) throw notKeyFile("publicKey does not match privateKey");
  const warning = keyFileModeWarning(path);
  if (warning) options.onWarning?.(warning);
  return { id, privateKey, publicKey };
}

/** A private key others on the machine can read can be copied and used as this node. */
function keyFileModeWarning(path: string): string | undefined {
  if (process.platform === "win32") return undefined;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `key file ${path} is readable by group or others (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 ${path}`;
}

/** Loads the key file, creating it with a fresh identity when it does not exist yet. */
export function loadOrCreateKeyFile(path: string, options: LoadKeyFileOptions = {}): Identity {
  if (existsSync(path)) return loadKeyFile(path, options);
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
