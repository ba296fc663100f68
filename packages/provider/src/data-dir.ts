// The data directory (blob cache, generated models, the default key file) must be a directory or
// not exist yet. A file there was reported by whatever first wrote under it: the key file, as
// "invalid --key: EEXIST: file already exists, mkdir …".
import { type Stats, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ProviderConfigError } from "./config.js";

/** Throws naming --data-dir when `dir`, or the nearest part of it that exists, is not a directory. */
export function checkDataDir(dir: string): void {
  const full = resolve(dir);
  for (let path = full; ; path = dirname(path)) {
    let stats: Stats | undefined;
    try {
      stats = statSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // not there yet (created at start), or under a file (found one level up)
      if ((code === "ENOENT" || code === "ENOTDIR") && dirname(path) !== path) continue;
      return; // anything else (a permission) is said by what writes there, with the path
    }
    if (stats.isDirectory()) return;
    const what = `${path} is a file, not a directory`;
    throw new ProviderConfigError("--data-dir", path === full ? what : `${dir}: ${what}`);
  }
}
