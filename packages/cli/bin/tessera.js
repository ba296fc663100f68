#!/usr/bin/env node
// The `tessera` command. Sources are TypeScript run through tsx, so the repository works
// straight after `npm install` with no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
