// A job is leased only to a provider whose stake backs it: the slash of a cheated job is the
// multiple (40) of its cost only while the stake holds that much, and a job dearer than stake / 40
// paid more to cheat on than the capped slash took (core's maxJobCost, now a scheduling mismatch).
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { greedyTinyJob, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000n;

describe("a job dearer than the provider's stake backs", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  let client: TesseraClient;

  beforeAll(async () => {
    await net.startGateway(["--min-stake", MIN_STAKE.toString()]);
    await net.startProvider({ region: "p" });
    await net.waitForProviders(1);
    client = (await net.consumer()).client;
  }, 120_000);
  afterAll(() => net.stop());

  it("waits until the provider's stake is 40 × its escrow", async () => {
    const provider = await until("provider listed", () => reads.byRegion("p"));
    await reads.stake(provider.id, MIN_STAKE);
    const job = await client.submitJob(greedyTinyJob("The world is"));
    const escrow = BigInt((job as unknown as { escrow: string }).escrow);
    expect(escrow * 40n).toBeGreaterThan(MIN_STAKE);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.getJob(job.id)).status).toBe("queued");
    await reads.stake(provider.id, escrow * 40n);
    expect((await client.waitForJob(job.id)).status).toBe("completed");
  }, 60_000);
});
