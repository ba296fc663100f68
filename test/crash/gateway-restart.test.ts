// Restart of the gateway under load (kill -9): no accepted job is lost, every job ends
// completed exactly once, and the ledger invariants hold.
import { loadBuiltinModule } from "@tessera/runtimes";
import type { JobView } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

describe("gateway crash and restart", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ region: "eu-west", concurrency: 2 });
    await net.startProvider({ region: "us-east", concurrency: 2 });
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(() => net.stop());

  it("recovers every accepted job after kill -9 of the gateway", async () => {
    const { client } = await net.consumer();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const accepted: JobView[] = [];
    for (let i = 0; i < 40; i++) {
      const heavy = i % 4 === 0;
      accepted.push(
        await client.submitJob({
          runtime: "wasm",
          module: heavy ? primes : reverse,
          input: { data: Buffer.from(heavy ? "3000000" : `job ${i}`).toString("base64") },
          limits: { timeoutMs: 60_000, maxMemoryMb: 64 },
        }),
      );
    }
    await until(
      "some jobs done and some still active",
      async () => {
        const page = await client.listJobs({ limit: 500 });
        const done = page.data.filter((j) => j.status === "completed").length;
        return done > 0 && done < accepted.length ? true : undefined;
      },
      60_000,
    ).catch(() => undefined);

    await net.gateway!.kill("SIGKILL");
    await net.startGateway();
    await net.waitForProviders(2);

    const final = await Promise.all(accepted.map((j) => client.waitForJob(j.id, { timeoutMs: 180_000 })));
    expect(final.map((j) => j.status)).toEqual(accepted.map(() => "completed"));
    const listed = await client.listJobs({ limit: 500 });
    expect(listed.data.length).toBe(accepted.length);

    const account = await client.account();
    const spent = final.reduce((n, j) => n + BigInt(j.cost!), 0n);
    expect(BigInt(account.spent)).toBe(spent);
    expect(account.escrow).toBe("0");
    const ledger = await net.admin.ledger();
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
  }, 300_000);

  it("stops on SIGTERM without waiting out a client's long-poll, and the job is there after", async () => {
    const { client } = await net.consumer();
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    // a ceiling under every provider's price: it stays queued
    const job = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: Buffer.from("later").toString("base64") },
      constraints: { maxPricePerUnit: 1 },
    });
    const poll = client.getJob(job.id, { waitMs: 300_000 }).then(
      () => "answered",
      () => "cut",
    );
    await new Promise((r) => setTimeout(r, 500)); // the poll is in flight
    // a gateway still waiting on the poll after a minute is killed, and exits by signal, not 0
    expect(await net.gateway!.stop(60_000)).toBe(0);
    expect(await poll).toBe("cut");
    await net.startGateway();
    await net.waitForProviders(2);
    expect((await client.getJob(job.id)).status).toBe("queued");
  }, 180_000);
});
