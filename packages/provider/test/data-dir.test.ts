// A --data-dir that is an existing file is named as such: it was reported as an invalid --key
// ("EEXIST: file already exists, mkdir …"), the key file's directory being the data directory.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startProvider } from "../src/index.js";
import { tempDir } from "./helpers.js";

/** the settings `tessera provider --data-dir <dir>` builds: the key file under the data directory */
const start = (dataDir: string) =>
  startProvider(
    {
      gateway: "ws://127.0.0.1:9",
      keyFile: join(dataDir, "provider-key.json"),
      region: "local",
      price: 1,
      dataDir,
      logLevel: "silent",
    },
    { throughput: 1000 },
  );

describe("--data-dir", () => {
  it("says the data directory is a file, not that the key is invalid", async () => {
    const file = join(tempDir(), "not-a-dir");
    writeFileSync(file, "");
    await expect(start(file)).rejects.toThrow(`invalid --data-dir: ${file} is a file, not a directory`);
    // one further down: a part of the path is the file
    await expect(start(join(file, "data"))).rejects.toThrow(
      `invalid --data-dir: ${join(file, "data")}: ${file} is a file, not a directory`,
    );
  });

  it("still takes a data directory that exists, or creates one that does not", async () => {
    const dir = join(tempDir(), "data");
    mkdirSync(dir);
    // no gateway there: the start itself succeeds, the connection retries until stopped
    for (const dataDir of [dir, join(dir, "fresh", "deeper")]) {
      const handle = await start(dataDir);
      await handle.stop();
    }
  });
});
