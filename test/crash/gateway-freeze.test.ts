// The gateway frozen (SIGSTOP: a paused VM, a stalled host) for longer than a provider waits for
// its pongs, while jobs run: the provider gives up on the silent connection and redials into the
// frozen listener; the gateway thaws (SIGCONT) to heartbeats it missed, leases its timers say
// expired, results waiting in the provider's outbox and a new connection of the same node. Every
// job must still end completed exactly once, charged once, with the ledger's invariants holding,
// and the provider must be online and running jobs again. The gateway knows it stood still, so
// the job that ran through the freeze keeps its lease, and nothing is leased into its slot.
import { loadBuiltinModule } from "@tessera/runtimes";
import type { JobView } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("gateway frozen with jobs running", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    // info: the test reads the provider's reconnect from the gateway's log
    await net.startGateway(["--lease-ms", "3000", "--heartbeat-ms", "500", "--log-level", "info"]);
    // one slot: the job still running on it after the thaw is all it can hold
    await net.startProvider({ concurrency: 1, runtimes: ["wasm"] });
    await net.waitForProviders(1);
  }, 120_000);
  afterAll(async () => {
    net.gateway?.child.kill("SIGCONT");
    await net.stop();
  });

  it("completes every job once after it thaws, and the provider comes back", async () => {
    const { client } = await net.consumer();
    const before = await client.account();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const jobs: JobView[] = [];
    // the first outlasts the freeze (about 13 s alone) on the node's only slot: its lease ran out
    // while the gateway stood still, yet the node runs on
    jobs.push(
      await client.submitJob({
        runtime: "wasm",
        module: primes,
        input: { data: b64("40000000") },
        limits: { timeoutMs: 120_000, maxMemoryMb: 64, maxFuel: 120_000_000_000 },
      }),
    );
    jobs.push(await client.submitJob({ runtime: "wasm", module: primes, input: { data: b64("2000000") } }));
    for (let i = 0; i < 4; i++)
      jobs.push(
        await client.submitJob({
          runtime: "wasm",
          module: reverse,
          input: { data: b64(`frozen ${i}`) },
        }),
      );
    await until("a job running", async () => (await client.getJob(jobs[0]?.id as string)).status === "running");

    net.gateway?.child.kill("SIGSTOP");
    // past the provider's wait for pongs (max(3 heartbeats, 10 s)): it drops the connection and redials
    const provider = net.providers[0];
    await until(
      "the provider to give up on the silent gateway",
      () => provider?.output().includes("gateway stopped answering pings"),
      60_000,
    );
    net.gateway?.child.kill("SIGCONT");

    const done = await Promise.all(jobs.map((j) => client.waitForJob(j.id, { timeoutMs: 180_000 })));
    expect(done.map((j) => j.status)).toEqual(jobs.map(() => "completed"));
    // the thawed gateway gave the leases the restart grace (it had heard no heartbeat, being
    // stopped), the redialled node renewed them, and the long job finished as its first attempt
    expect(done[0]?.attempts).toBe(1);
    expect(net.gateway?.output()).toContain("gateway stalled");
    // it redialled saying it still held the long job's lease (HelloMsg.holding)
    expect(net.gateway?.output()).toMatch(/"holding":1,"msg":"provider connected"/);
    expect(await (await fetch(`${net.url}/metrics`)).text()).toMatch(/^tessera_gateway_stalls_total [1-9]/m);
    // no lease went to a slot the node still used: a refusal there would cost its job an attempt
    expect(provider?.output()).not.toContain("provider at capacity");
    // the reverse jobs hold their input reversed
    expect(done.slice(2).map((j) => j.output)).toEqual([0, 1, 2, 3].map((i) => ({ data: b64(`${i} nezorf`) })));
    await net.waitForProviders(1);
    const after = await client.account();
    const costs = done.reduce((sum, j) => sum + BigInt(j.cost as string), 0n);
    expect(BigInt(after.spent) - BigInt(before.spent)).toBe(costs);
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(costs);
    expect(after.escrow).toBe("0");
    expect((await net.admin.ledger()).ok).toBe(true);

    // and it runs new work
    const again = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: b64("thawed") },
    });
    expect((await client.waitForJob(again.id, { timeoutMs: 120_000 })).status).toBe("completed");
  }, 300_000);
});
