// A provider frozen mid-job (SIGSTOP: a laptop lid shut, a VM paused), its connection still open:
// its lease runs out, the job finishes on another provider and is charged once; when the node
// thaws (SIGCONT) it is told its lease is gone and drops the old attempt, the job keeps the other
// node's result and cost, the ledger holds, and the thawed node runs jobs again on the session it
// had, having taken the stall for its own. A node that comes back with a signed result of such an
// old attempt is refused it and paid nothing.
import { generateIdentity } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import { rawProvider, signedWasmResult } from "../helpers/raw-provider.js";

describe("provider frozen mid-job", () => {
  const net = new TestNetwork();

  beforeAll(async () => {
    await net.startGateway(["--lease-ms", "3000", "--heartbeat-ms", "500"]);
    await net.startProvider({ region: "eu-west", concurrency: 1, runtimes: ["wasm"] });
    await net.startProvider({ region: "us-east", concurrency: 1, runtimes: ["wasm"] });
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(async () => {
    for (const p of net.providers) p.child.kill("SIGCONT");
    await net.stop();
  });

  it("finishes the job elsewhere, charges once, and the thawed node drops the old attempt and runs jobs again", async () => {
    const { client } = await net.consumer();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const before = await client.account();
    const job = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: Buffer.from("3000000").toString("base64") },
      limits: { timeoutMs: 120_000, maxMemoryMb: 64 },
    });
    const running = await until("job leased", async () => {
      const j = await client.getJob(job.id);
      return j.status === "running" ? j : undefined;
    });
    const victim = net.processOf(running.provider as string);
    expect(victim, "the leased provider's process").toBeDefined();
    // frozen with the job in its hands, not before it began
    await until("the job to start on its node", () =>
      victim
        ?.output()
        .split("\n")
        .some((l) => l.includes(job.id) && l.includes("job started")),
    );
    victim?.child.kill("SIGSTOP");
    const frozenAt = performance.now();

    const done = await client.waitForJob(job.id, { timeoutMs: 180_000 });
    expect(done.status).toBe("completed");
    expect(done.provider).not.toBe(running.provider);
    expect(done.trail?.map((t) => t.outcome)).toEqual(["expired", "completed"]);
    // missing its heartbeats, it was passed over for new leases, not leased to and waited out
    await until("the gateway to pass over the frozen node", () =>
      net.gateway
        ?.output()
        .split("\n")
        .some((l) => l.includes("provider silent") && l.includes(running.provider as string)),
    );
    const shown = (await client.providers()).data.find((p) => p.id === running.provider);
    expect([shown?.online, shown?.silent]).toEqual([true, true]);

    // frozen past the node's pong wait (10 s): on waking, its pongs from meanwhile are unread,
    // and it must take the stall for its own, not drop a gateway that answered all along
    await new Promise((r) => setTimeout(r, Math.max(0, 11_000 - (performance.now() - frozenAt))));
    // thawed: its first heartbeat names the old lease and is answered with a cancel (or, were it
    // quicker, its result would be refused as the next test shows)
    victim?.child.kill("SIGCONT");
    await until(
      "the thawed node to be done with the old attempt",
      () => /job (completed|aborted)/.test(victim?.output().split(job.id).slice(1).join("") ?? ""),
      120_000,
    );
    // and it is back: a job only it may run (its region) completes there
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const region = (await client.providers()).data.find((p) => p.id === running.provider)?.region as string;
    const again = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: Buffer.from("thawed").toString("base64") },
      constraints: { regions: [region] },
    });
    const ran = await client.waitForJob(again.id, { timeoutMs: 120_000 });
    expect(ran.status).toBe("completed");
    expect(ran.provider).toBe(running.provider);
    expect((await client.providers()).data.find((p) => p.id === running.provider)?.silent).toBe(false);
    // on the session it had before the freeze
    const log = victim?.output() ?? "";
    expect(log).toContain("provider stalled");
    expect(log).not.toContain("gateway stopped answering pings");
    expect(log.match(/connected to gateway/g)).toHaveLength(1);

    // the frozen job is as the other node left it, and the consumer paid for each job once
    const after = await client.getJob(job.id);
    expect([after.provider, after.cost, after.outputHash]).toEqual([done.provider, done.cost, done.outputHash]);
    const account = await client.account();
    const paid = BigInt(done.cost as string) + BigInt(ran.cost as string);
    expect(BigInt(before.balance) - BigInt(account.balance)).toBe(paid);
    expect(BigInt(account.spent) - BigInt(before.spent)).toBe(paid);
    expect(account.escrow).toBe("0");
    expect((await net.admin.ledger()).ok).toBe(true);
  }, 300_000);

  it("refuses a signed result of an attempt whose lease ran out, and pays its node nothing", async () => {
    const { client } = await net.consumer();
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const identity = generateIdentity();
    const caps = {
      runtimes: ["wasm" as const],
      models: [],
      pricePerUnit: 10,
      region: "late",
      maxConcurrency: 1,
      throughput: 1_000,
      wasmMemoryMb: 100,
    };
    let node = await rawProvider(net.port, caps, identity);
    await until("the late node's capacity proof to pass", async () => {
      const nodes = (await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as {
        data: { id: string; capacityPassed: number }[];
      };
      return (nodes.data.find((n) => n.id === identity.id)?.capacityPassed ?? 0) > 0;
    });
    // eu-west busy for a while, so the job below goes to the late node first
    const busy = await client.submitJob({
      runtime: "wasm",
      module: primes,
      input: { data: Buffer.from("3000000").toString("base64") },
      constraints: { regions: ["eu-west"] },
    });
    await until("eu-west busy", async () => (await client.getJob(busy.id)).status === "running");
    const job = await client.submitJob({
      runtime: "wasm",
      module: reverse,
      input: { data: Buffer.from("late").toString("base64") },
      constraints: { regions: ["late", "eu-west"] },
    });
    const lease = await node.next((m) => m.type === "lease" && m.jobId === job.id);
    // gone with the lease (a freeze past the grace, a lost network): the job runs on eu-west
    node.ws.close();
    const done = await client.waitForJob(job.id, { timeoutMs: 120_000 });
    expect(done.status).toBe("completed");
    expect(done.trail?.map((t) => t.outcome)).toEqual(["expired", "completed"]);

    // back, with a signed result of the old attempt, right in every other way
    node = await rawProvider(net.port, caps, identity);
    node.send(signedWasmResult(identity, job.id, lease.attempt as number, Buffer.from("etal").toString("base64")));
    const ack = await node.next((m) => m.type === "ack" && m.jobId === job.id);
    expect(ack.accepted).toBe(false);
    const after = await client.getJob(job.id);
    expect([after.provider, after.cost, after.outputHash]).toEqual([done.provider, done.cost, done.outputHash]);
    const ledger = await net.admin.ledger();
    expect(ledger.ok).toBe(true);
    expect(BigInt(ledger.accounts[`provider:${identity.id}:earnings`] ?? "0")).toBe(0n);
    node.ws.close();
  }, 300_000);
});
