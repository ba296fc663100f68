// The gateway's own key (beside its SQLite file) is used when group or others can read it, as a
// provider's is, and the operator is told which file and what to do.
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, saveKeyFile } from "@tessera/protocol";
import pino from "pino";
import { expect, it } from "vitest";
import { startGateway } from "./server.js";

it("warns at start about a gateway key file others can read, naming it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-key-"));
  const keyFile = join(dir, "gateway.key");
  saveKeyFile(keyFile, generateIdentity());
  chmodSync(keyFile, 0o644);
  const lines: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
  const gw = await startGateway({ port: 0, host: "127.0.0.1", db: join(dir, "gateway.db") }, { logger });
  await gw.close();
  const warning = lines
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .find((l) => l.msg.includes(keyFile));
  expect(warning?.level).toBe(40);
  expect(warning?.msg).toContain("chmod 600");
});
