// Real driver errors, not made-up ones: node-postgres against a port nothing listens on, and
// better-sqlite3 writing a database it may only read, are told apart from a bug, and a route that meets one
// answers 503 in OpenAI's shape.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import Fastify from "fastify";
import pg from "pg";
import { expect, it } from "vitest";
import { errorHandler } from "./errors.js";
import { storeUnavailable } from "./store-errors.js";

const closedPort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

const caught = async (f: () => unknown): Promise<unknown> => {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

it("tells a store that cannot be reached from a fault in the gateway, and answers it with 503", async () => {
  const port = await closedPort();
  const refused = await caught(() => new pg.Client({ host: "127.0.0.1", port, user: "x" }).connect());
  const file = join(mkdtempSync(join(tmpdir(), "store-errors-")), "t.db");
  new Database(file).exec("create table t (x integer)");
  const readOnly = new Database(file, { readonly: true });
  const cannotWrite = await caught(() => readOnly.exec("insert into t values (1)"));
  readOnly.close();
  expect(storeUnavailable(refused)).toBe(true);
  expect(storeUnavailable(cannotWrite)).toBe(true);
  expect(storeUnavailable(new TypeError("x is undefined"))).toBe(false);

  const app = Fastify();
  app.setErrorHandler(errorHandler);
  app.get("/down", async () => {
    throw refused;
  });
  app.get("/bug", async () => {
    throw new TypeError("x is undefined");
  });
  const down = await app.inject({ method: "GET", url: "/down" });
  expect(down.statusCode).toBe(503);
  expect(down.json()).toMatchObject({ error: { code: "store_unavailable", type: "service_unavailable" } });
  expect((await app.inject({ method: "GET", url: "/bug" })).statusCode).toBe(500);
  await app.close();
});
