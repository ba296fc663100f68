// One gateway per database: its leases live in memory, so a second gateway on the same SQLite
// file or PostgreSQL database would run the same jobs again. The second is refused at start with
// a message saying why, the first keeps serving, and once the first is killed (kill -9, no clean
// shutdown) a new gateway starts on the database at once.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type PgServer, startPgServer } from "../../packages/store/test/pg-server.js";
import { freePort, spawnTessera, TestNetwork, until } from "../helpers/network.js";

/** Starts another gateway on `db`: its exit code and output, or "started" if it came up. */
async function secondGateway(
  net: TestNetwork,
  db: string,
): Promise<{ code: number | null | "started"; output: string }> {
  const port = await freePort();
  const args = ["gateway", "--port", String(port), "--db", db, "--admin-key-file", join(net.dir, "admin.key")];
  const p = spawnTessera("second-gateway", args);
  const up = () =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  const code = await until("the second gateway to exit or answer", async () =>
    p.child.exitCode !== null ? { code: p.child.exitCode } : (await up()) && { code: "started" as const },
  );
  if (code.code === "started") await p.kill("SIGKILL");
  return { code: code.code, output: p.output() };
}

async function refusesSecondThenHandsOver(net: TestNetwork, db: string, dbArgs: string[]): Promise<void> {
  await net.startGateway(dbArgs);
  const { client } = await net.consumer();

  const second = await secondGateway(net, db);
  expect(second.code, second.output).toBe(1);
  expect(second.output).toMatch(/another gateway holds this database/);

  // the first still serves, reads and writes
  expect((await net.admin.health()).ok).toBe(true);
  const { client: later } = await net.consumer();
  expect(BigInt((await later.account()).balance)).toBeGreaterThan(0n);

  await net.gateway?.kill("SIGKILL");
  await net.startGateway(dbArgs);
  expect(BigInt((await client.account()).balance)).toBeGreaterThan(0n);
}

describe("a gateway holds its database", () => {
  const nets: TestNetwork[] = [];
  let pg: PgServer | undefined;
  afterAll(async () => {
    await Promise.all(nets.map((n) => n.stop()));
    await pg?.stop();
  });

  it("on a SQLite file: a second gateway is refused while the first runs, and starts after it is killed", async () => {
    const net = new TestNetwork();
    nets.push(net);
    await refusesSecondThenHandsOver(net, join(net.dir, "gateway.db"), []);
  }, 120_000);

  it.skipIf(process.env.TESSERA_SKIP_PG === "1")(
    "on a PostgreSQL database: the same",
    async () => {
      pg = await startPgServer();
      const url = await pg.createDatabase();
      const net = new TestNetwork();
      nets.push(net);
      await refusesSecondThenHandsOver(net, url, ["--db", url]);
    },
    180_000,
  );
});
