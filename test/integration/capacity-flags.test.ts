// The proof-of-capacity settings as `tessera gateway` flags, with real processes: a bad value stops
// the gateway naming the setting; --capacity-retry-ms challenges a failing node again that soon
// (the default waits 15 s); --no-capacity-proof schedules a node that never proves its capacity,
// which the default never does (canaries.test.ts), while its failures still count.
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTessera, TestNetwork, until } from "../helpers/network.js";
import { greedyTinyJob, type NodeView } from "../helpers/verification.js";

describe("proof-of-capacity flags", () => {
  const net = new TestNetwork();
  let client: TesseraClient;
  let faker = "";

  beforeAll(async () => {
    await net.startGateway(["--no-capacity-proof", "--capacity-retry-ms", "300", "--capacity-n", "64"]);
    faker = await net.startAdversary("fake-capacity", { operator: "op-f", region: "faker" });
    await net.waitForProviders(1);
    ({ client } = await net.consumer());
  }, 120_000);
  afterAll(() => net.stop());

  const view = async () => {
    const body = (await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as {
      data: Array<NodeView & { capacityFailures: number }>;
    };
    return body.data.find((n) => n.id === faker);
  };

  it("refuses a bad value at start-up, naming the setting", async () => {
    for (const [flag, value, setting] of [
      ["--capacity-n", "4", "capacity.n"],
      ["--capacity-retry-ms", "soon", "capacity.retryMs"],
    ] as const) {
      const gw = spawnTessera("bad-gateway", ["gateway", "--port", "0", "--db", ":memory:", flag, value]);
      expect(await gw.exited).not.toBe(0);
      expect(gw.output()).toContain(`verification.${setting}`);
    }
  }, 60_000);

  it("challenges a failing node again after --capacity-retry-ms, and schedules it with --no-capacity-proof", async () => {
    // the join challenge and at least two retries: with the default retry the second comes after 15 s
    const failing = await until(
      "three capacity failures",
      async () => {
        const v = await view();
        return v && v.capacityFailures >= 3 ? v : undefined;
      },
      10_000,
    );
    expect(failing.excluded).toBe(false);
    const job = await client.submitJob(greedyTinyJob("hello", "faker"));
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: "completed", provider: faker });
  }, 60_000);
});
