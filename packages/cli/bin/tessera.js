#!/usr/bin/env node
// The `tessera` command. Sources are TypeScript run through tsx, so the repository works
// straight after `npm install` with no build step.
import { setFlagsFromString } from "node:v8";
import { register } from "tsx/esm/api";

// A gateway's old generation may grow to 1.5x its live set between full collections, not the 4x
// V8 allows on a machine with gigabytes of RAM: under load its garbage is short-lived job records
// promoted early, and 4x let RSS climb ~60 MiB before the first full collection. V8 reads this
// flag at each collection, so setting it before anything loads takes effect. (The young
// generation's size can only be set at start: src/lib/node-flags.ts.)
if (process.argv[2] === "gateway") setFlagsFromString("--heap-growing-percent=50");

register();
await import("../src/main.ts");
