import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { SOLC_VERSION, SOURCE_HASH } from "../generated/index.js";
import { sourceHash } from "./compile.js";

const require = createRequire(import.meta.url);

describe("generated contract bindings", () => {
  it("match the Solidity sources, compiler and settings (run `npm run compile -w @tessera/chain` if not)", () => {
    const { version } = require("solc/package.json") as { version: string };
    expect(SOLC_VERSION.startsWith(`${version}+`)).toBe(true);
    expect(sourceHash(SOLC_VERSION)).toBe(SOURCE_HASH);
  });
});
