// Node flags for tessera processes, read from the bin's shebang: `npx tessera …` runs the bin
// through that line, and whatever spawns `node <bin>` directly (`tessera up`, the tests, the
// benches) passes the same flags, so every tessera process runs alike.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TESSERA_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../bin/tessera.js");

export function binNodeFlags(bin = TESSERA_BIN): string[] {
  const first = readFileSync(bin, "utf8").split("\n", 1)[0] ?? "";
  const flags = /^#!\/usr\/bin\/env -S node\b(.*)$/.exec(first)?.[1] ?? "";
  return flags.split(/\s+/).filter(Boolean);
}
