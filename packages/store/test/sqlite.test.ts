// The store contract and the ledger property on SQLite files in a temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storeContract } from "./contract.js";
import { checkLedgerProperty } from "./ledger-property.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-store-"));
let n = 0;
const freshFile = async () => join(dir, `nested/dir/t${n++}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sqlite store", () => {
  storeContract({ dialect: "sqlite", fresh: freshFile });

  it("keeps the ledger's invariants through random batches, replays and restarts", async () => {
    await checkLedgerProperty({ location: freshFile, numRuns: 40 });
  });

  it("opens an in-memory database", async () => {
    const store = await openStore(":memory:");
    expect(store.dialect).toBe("sqlite");
    expect(await store.balances()).toEqual(new Map());
    await store.close();
  });
});
