import { chmodSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { generateIdentity, saveKeyFile } from "@tessera/protocol";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, startTestProvider, tempDir } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("key file", () => {
  it.skipIf(process.platform === "win32")("warns at start when group or others can read the key file", async () => {
    gateway = await FakeGateway.start();
    const keyFile = join(tempDir(), "key.json");
    saveKeyFile(keyFile, generateIdentity());
    chmodSync(keyFile, 0o644);
    const warnings: Array<{ msg: string; keyFile?: string }> = [];
    const sink = new Writable({
      write(line, _enc, done) {
        const entry = JSON.parse(line.toString());
        if (entry.level === 40) warnings.push(entry);
        done();
      },
    });
    await startTestProvider(
      gateway,
      { keyFile },
      { runtimes: { wasm: new ControlledRuntime() }, logger: pino({ level: "warn" }, sink) },
    );
    expect(warnings).toContainEqual(expect.objectContaining({ keyFile, msg: expect.stringContaining("mode 0644") }));
    expect(warnings.find((w) => w.keyFile === keyFile)?.msg).toContain(`chmod 600 ${keyFile}`);
  });
});
