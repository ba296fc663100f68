// WASM modules and input blobs, fetched from the gateway by content id and kept on disk, so a
// module used by many jobs crosses the network once. Bytes are checked against their id both
// when downloaded and when read back, so neither the network nor the disk can slip in others.
// The disk copy is bounded (maxCacheBytes): the least recently used blobs are deleted past it,
// since every job's input blob is cached too and most are never used again.

import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isContentId, sha256Hex } from "@tessera/protocol";
import { JobFault } from "@tessera/runtimes";
import type { Logger } from "pino";
import { blobUrl } from "./urls.js";

export interface BlobStore {
  /** the bytes whose sha256 is `id`; throws JobFault when the gateway has no such blob */
  get(id: string): Promise<Uint8Array>;
}

export interface BlobCacheOptions {
  /** gateway http(s) base URL */
  httpBase: string;
  /** directory for cached blobs, one file per id */
  dir: string;
  maxBytes: number;
  /** most bytes kept on disk, summed over the cached blobs; default DEFAULT_BLOB_CACHE_BYTES */
  maxCacheBytes?: number;
  /** per download; default 120 s */
  timeoutMs?: number;
  fetch?: typeof fetch;
  log?: Logger;
}

/** Default bound on the blob cache's disk use: 1 GiB. */
export const DEFAULT_BLOB_CACHE_BYTES = 1024 * 1024 * 1024;
/** a temp file this old is left from a crashed write, not one in progress */
const STALE_TMP_MS = 60 * 60 * 1000;

export function createBlobCache(options: BlobCacheOptions): BlobStore {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxCacheBytes = options.maxCacheBytes ?? DEFAULT_BLOB_CACHE_BYTES;
  const inFlight = new Map<string, Promise<Uint8Array>>();
  /** blobs on disk and their sizes, least recently used first (a Map keeps insertion order) */
  const onDisk = new Map<string, number>();
  let diskBytes = 0;
  let scanned: Promise<void> | undefined;

  /** Learns what an earlier run left on disk (oldest first), once, and trims it to the bound. */
  function scan(): Promise<void> {
    scanned ??= (async () => {
      let names: string[];
      try {
        names = await readdir(options.dir);
      } catch {
        return;
      }
      const found: { id: string; size: number; mtimeMs: number }[] = [];
      for (const name of names) {
        const path = join(options.dir, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) continue;
        if (isContentId(name)) found.push({ id: name, size: info.size, mtimeMs: info.mtimeMs });
        else if (name.endsWith(".tmp") && Date.now() - info.mtimeMs > STALE_TMP_MS) {
          await unlink(path).catch(() => undefined);
        }
      }
      found.sort((a, b) => a.mtimeMs - b.mtimeMs);
      for (const { id, size } of found) if (!onDisk.has(id)) used(id, size);
      await trim();
    })();
    return scanned;
  }

  function used(id: string, size: number): void {
    forget(id);
    onDisk.set(id, size);
    diskBytes += size;
  }

  function forget(id: string): void {
    const size = onDisk.get(id);
    if (size === undefined) return;
    onDisk.delete(id);
    diskBytes -= size;
  }

  /** Deletes the least recently used blobs until the cache is within its bound. */
  async function trim(): Promise<void> {
    const victims: string[] = [];
    for (const [id, size] of onDisk) {
      if (diskBytes <= maxCacheBytes) break;
      victims.push(id);
      diskBytes -= size;
    }
    for (const id of victims) onDisk.delete(id);
    if (victims.length > 0) options.log?.debug({ blobs: victims.length }, "blob cache trimmed");
    await Promise.all(victims.map((id) => unlink(join(options.dir, id)).catch(() => undefined)));
  }

  async function readCached(id: string): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(options.dir, id));
    } catch {
      forget(id);
      return undefined;
    }
    if (sha256Hex(bytes) === id) {
      used(id, bytes.byteLength);
      return bytes;
    }
    options.log?.warn({ blob: id }, "cached blob is corrupt; fetching it again");
    forget(id);
    await unlink(join(options.dir, id)).catch(() => undefined);
    return undefined;
  }

  async function download(id: string): Promise<Uint8Array> {
    const url = blobUrl(options.httpBase, id);
    let res: Response;
    try {
      res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new Error(`fetching blob ${id} from the gateway failed: ${(err as Error).message}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new JobFault(`the gateway has no blob ${id}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`fetching blob ${id} from the gateway failed: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > options.maxBytes) {
      await res.body?.cancel();
      throw new JobFault(`blob ${id} is ${declared} bytes, over this provider's limit of ${options.maxBytes}`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > options.maxBytes) {
      throw new JobFault(`blob ${id} is over this provider's limit of ${options.maxBytes} bytes`);
    }
    const actual = sha256Hex(bytes);
    // The gateway served bytes that are not what it named: not the job's fault, maybe transient.
    if (actual !== id) throw new Error(`the gateway served bytes hashing to ${actual} for blob ${id}`);
    await store(id, bytes);
    options.log?.debug({ blob: id, bytes: bytes.byteLength }, "blob fetched");
    return bytes;
  }

  async function store(id: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > maxCacheBytes) return; // it would push out everything else and still not fit
    // Temp file + rename: a crash or a second process never leaves half a blob under the id.
    const tmp = join(options.dir, `${id}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await mkdir(options.dir, { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, join(options.dir, id));
      used(id, bytes.byteLength);
      await trim();
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      options.log?.warn({ blob: id, err }, "could not cache blob on disk");
    }
  }

  return {
    get(id: string): Promise<Uint8Array> {
      if (!isContentId(id)) return Promise.reject(new JobFault(`not a content id: ${id.slice(0, 80)}`));
      let pending = inFlight.get(id);
      if (!pending) {
        pending = (async () => {
          await scan();
          return (await readCached(id)) ?? (await download(id));
        })();
        inFlight.set(id, pending);
        const forget = () => inFlight.delete(id);
        pending.then(forget, forget);
      }
      // Each caller gets its own copy: runtimes may transfer or detach the buffer.
      return pending.then((bytes) => bytes.slice());
    },
  };
}
