// The store contract and the ledger property on a throwaway PostgreSQL server. Without the
// PostgreSQL binaries this suite fails, unless TESSERA_SKIP_PG=1 says to skip it.
import { afterAll, beforeAll, describe, it } from "vitest";
import { storeContract } from "./contract.js";
import { checkLedgerProperty } from "./ledger-property.js";
import { type PgServer, startPgServer } from "./pg-server.js";

const skip = process.env.TESSERA_SKIP_PG === "1";

describe.skipIf(skip)("postgres store", () => {
  let server: PgServer | undefined;
  beforeAll(async () => {
    server = await startPgServer();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  const fresh = async () => {
    if (!server) throw new Error("the PostgreSQL test server did not start");
    return server.createDatabase();
  };

  storeContract({ dialect: "postgres", fresh });

  it("keeps the ledger's invariants through random batches, replays and restarts", async () => {
    // runs share one database (each uses its own ids): creating a database per run costs more
    const shared = await fresh();
    await checkLedgerProperty({ location: async () => shared, numRuns: 20 });
  });
});
