// The store contract and the ledger property on a throwaway PostgreSQL server. Without the
// PostgreSQL binaries this suite fails, unless TESSERA_SKIP_PG=1 says to skip it. The byte order
// part of the contract runs again on a database whose own collation is ICU en-US (PostgreSQL 15
// and later), where text declared without a collation sorts linguistically.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storeContract, storeHarness } from "./contract.js";
import { byteOrderContract } from "./contract-byte-order.js";
import { makeJob } from "./fixtures.js";
import { checkLedgerProperty } from "./ledger-property.js";
import { type PgServer, pgMajorVersion, startPgServer } from "./pg-server.js";

const skip = process.env.TESSERA_SKIP_PG === "1";
/** a database's default collation from ICU needs PostgreSQL 15 */
const icu = !skip && (pgMajorVersion() ?? 0) >= 15;

/** text columns of the database's tables, with their collation (null: the database's) */
async function textColumns(url: string): Promise<{ table: string; column: string; collation: string | null }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select table_name as table, column_name as column, collation_name as collation
       from information_schema.columns where table_schema = current_schema() and data_type = 'text'
       order by 1, 2`,
    );
    return rows;
  } finally {
    await client.end();
  }
}

async function exec(url: string, statements: string[]): Promise<string[][]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: string[][] = [];
    for (const s of statements) out.push((await client.query({ text: s, rowMode: "array" })).rows.map((r) => r[0]));
    return out;
  } finally {
    await client.end();
  }
}

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
  const freshIcu = async () => {
    if (!server) throw new Error("the PostgreSQL test server did not start");
    return server.createDatabase({ icuLocale: "en-US" });
  };

  storeContract({ dialect: "postgres", fresh });

  it("keeps the ledger's invariants through random batches, replays and restarts", async () => {
    // runs share one database (each uses its own ids): creating a database per run costs more
    const shared = await fresh();
    await checkLedgerProperty({ location: async () => shared, numRuns: 20 });
  });

  describe.runIf(icu)("on a database collated ICU en-US", () => {
    const h = storeHarness({ dialect: "postgres", fresh: freshIcu });
    byteOrderContract(h);

    it("collates every text column of the store C", async () => {
      const columns = await textColumns(h.location);
      expect(columns.length).toBeGreaterThan(50);
      expect(columns.filter((c) => c.collation !== "C")).toEqual([]);
    });

    it("collates C the text columns of a database made before migration 0015, keeping its rows", async () => {
      const ids = ["job-B", "job-a", "job_1", "job1"];
      await h.store.commit(ids.map((id) => ({ job: makeJob(id, { createdAt: 1_000 }) })));
      await h.store.close();
      // back to what 0001 to 0014 made: text in the database's collation, 0015 not yet run
      const alters = (await textColumns(h.location)).map(
        (c) => `alter table "${c.table}" alter column "${c.column}" type text collate "default"`,
      );
      const linguistic = (
        await exec(h.location, [
          ...alters,
          "delete from kysely_migration where name = '0015_text_byte_order'",
          "select id from jobs order by id",
        ])
      ).at(-1);
      expect(linguistic).toHaveLength(ids.length);
      expect(linguistic).not.toEqual([...ids].sort());

      h.store = await openStore(h.location);
      expect((await textColumns(h.location)).filter((c) => c.collation !== "C")).toEqual([]);
      expect((await h.store.listJobs({ limit: 10 })).map((j) => j.id)).toEqual([...ids].sort().reverse());
    });
  });
});
