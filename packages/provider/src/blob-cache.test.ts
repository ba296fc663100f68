import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "@tessera/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createBlobCache } from "./blob-cache.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A gateway's /v1/blobs in memory: 100-byte blobs named by a letter. */
function gateway() {
  const blobs = new Map<string, Uint8Array>();
  const ids: Record<string, string> = {};
  for (const name of "abcdef") {
    const bytes = new Uint8Array(100).fill(name.charCodeAt(0));
    ids[name] = sha256Hex(bytes);
    blobs.set(ids[name] as string, bytes);
  }
  const requested: string[] = [];
  const fetch = (async (url: string) => {
    const id = url.slice(url.lastIndexOf("/") + 1);
    requested.push(id);
    const bytes = blobs.get(id);
    return bytes ? new Response(Buffer.from(bytes)) : new Response(null, { status: 404 });
  }) as unknown as typeof globalThis.fetch;
  const names = (ofDir: string) =>
    readdirSync(ofDir)
      .map((file) => Object.keys(ids).find((name) => ids[name] === file) ?? file)
      .sort()
      .join("");
  return { ids, fetch, requested, names };
}

describe("blob cache on disk", () => {
  // every job's input blob was kept forever: 20 jobs with 8 MiB inputs left 160 MB in <data-dir>/blobs
  it("keeps at most maxCacheBytes, deleting the least recently used blobs", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-blobs-"));
    const gw = gateway();
    const cache = createBlobCache({
      httpBase: "http://gateway.test",
      dir,
      maxBytes: 1000,
      maxCacheBytes: 250,
      fetch: gw.fetch,
    });
    await cache.get(gw.ids.a as string);
    await cache.get(gw.ids.b as string);
    expect(gw.names(dir)).toBe("ab");
    await cache.get(gw.ids.a as string); // a is now the more recently used
    await cache.get(gw.ids.c as string);
    expect(gw.names(dir)).toBe("ac");
    expect(gw.requested.length).toBe(3); // a came from disk the second time
    await cache.get(gw.ids.d as string);
    expect(gw.names(dir)).toBe("cd");
    // an evicted blob is fetched again, correctly
    expect(Buffer.from(await cache.get(gw.ids.a as string)).toString()).toBe("a".repeat(100));
    expect(gw.names(dir)).toBe("ad");
  });

  it("trims what an earlier run left past the bound, oldest first, and leaves out a blob larger than it", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-blobs-"));
    const gw = gateway();
    const old = Date.now() / 1000 - 3 * 3600;
    for (const [i, name] of ["a", "b", "c"].entries()) {
      const path = join(dir, gw.ids[name] as string);
      writeFileSync(path, new Uint8Array(100).fill(name.charCodeAt(0)));
      utimesSync(path, old + i, old + i);
    }
    const staleTmp = join(dir, "x.123.abc.tmp");
    writeFileSync(staleTmp, "half a blob");
    utimesSync(staleTmp, old, old);
    const cache = createBlobCache({
      httpBase: "http://gateway.test",
      dir,
      maxBytes: 1000,
      maxCacheBytes: 250,
      fetch: gw.fetch,
    });
    await cache.get(gw.ids.c as string);
    expect(gw.names(dir)).toBe("bc");
    expect(gw.requested).toEqual([]);

    const small = createBlobCache({
      httpBase: "http://gateway.test",
      dir,
      maxBytes: 1000,
      maxCacheBytes: 50,
      fetch: gw.fetch,
    });
    expect((await small.get(gw.ids.e as string)).byteLength).toBe(100);
    expect(gw.names(dir)).toBe("");
  });
});
