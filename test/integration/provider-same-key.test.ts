// Two provider processes started with one node key (say, twice from one directory, whose
// default key is .tessera/provider-key.json): the gateway replaces the older connection with the
// newer one (close 4003). The older process must give the identity up and exit, not take it back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

describe("two providers with one key", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0"]);
  }, 120_000);
  afterAll(() => net.stop());

  it("the older one exits non-zero naming the key file, and the newer one keeps the node", async () => {
    const { keyFile, id } = net.nodeKey("shared");
    const older = await net.startProvider({ runtimes: ["wasm"], extra: ["--key", keyFile] });
    await net.waitForProviders(1);
    const newer = await net.startProvider({ runtimes: ["wasm"], extra: ["--key", keyFile] });
    await until("the newer provider to connect", () => newer.output().includes("connected to gateway"));

    expect(await older.exited).toBe(4);
    expect(older.output()).toContain("another provider process is connected with the same node key");
    expect(older.output()).toContain(keyFile);
    expect(older.output().match(/connected to gateway/g)).toHaveLength(1);

    // the newer one was not replaced back and is the node the gateway lists online
    expect(newer.child.exitCode).toBeNull();
    expect(newer.output()).not.toContain("replaced by a newer connection");
    const listed = (await net.admin.providers()).data.find((p) => p.id === id);
    expect(listed?.online).toBe(true);
  }, 120_000);
});
