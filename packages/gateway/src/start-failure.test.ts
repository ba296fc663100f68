// A gateway that fails to start after it took its database (its port in use) lets the database
// go: a gateway started in the same process on the same file afterwards is not refused as if
// another still held it.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { startGateway } from "./server.js";

it("releases its database when a later start-up step fails", async () => {
  const db = join(mkdtempSync(join(tmpdir(), "start-failure-")), "gateway.db");
  const taken = createServer();
  const port = await new Promise<number>((resolve) =>
    taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port)),
  );
  await expect(startGateway({ port, host: "127.0.0.1", db, logLevel: "silent" })).rejects.toMatchObject({
    code: "EADDRINUSE",
  });
  taken.close();
  const gw = await startGateway({ port: 0, host: "127.0.0.1", db, logLevel: "silent" });
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  await gw.close();
});
