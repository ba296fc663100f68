#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50
// The `tessera` command. Sources are TypeScript run through tsx, so the repository works
// straight after `npm install` with no build step.
//
// The V8 flags above keep a long-running node's memory flat (bench/batch-throughput.ts, memory
// phase): V8's defaults for a machine with gigabytes of RAM let the young generation grow to
// 16 MiB semi-spaces and the old one to 4x its live size between full collections, so a gateway
// under load sat at ~190 MiB and peaked near 250 before its first full collection; with these,
// ~165 flat, at no measurable CPU cost per job. Children spawned as `node <bin>` get the same
// flags from this line (src/lib/node-flags.ts).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
