import { join } from "node:path";
import { CapabilitiesSchema, loadKeyFile, PROTOCOL_VERSION } from "@tessera/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, fakeSpec, startTestProvider, tempDir, until } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("provider handshake", () => {
  it("answers the challenge with a hello whose signature verifies and whose capabilities are valid", async () => {
    gateway = await FakeGateway.start();
    const provider = await startTestProvider(
      gateway,
      { price: 42, region: "eu-west", concurrency: 3, wasmMemoryBudgetMb: 512 },
      {
        runtimes: { wasm: new ControlledRuntime() },
      },
    );
    const conn = await gateway.session(0);
    const hello = conn.hello;
    expect(hello?.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(hello?.nodeId).toBe(provider.nodeId);
    expect(conn.helloVerified).toBe(true);
    const caps = CapabilitiesSchema.parse(hello?.capabilities);
    expect(caps).toMatchObject({
      runtimes: ["wasm"],
      models: [],
      pricePerUnit: 42,
      region: "eu-west",
      maxConcurrency: 3,
      throughput: 1000,
      // the scheduler holds WASM leases to it: the memory limits of those running at once fit in it
      wasmMemoryMb: 512,
      software: "tessera-provider/0.1.0",
    });
    // The first heartbeat follows the welcome.
    await conn.waitFor("heartbeat");
    await until(() => provider.stats().connected);
  });

  it("creates the key file on first start and keeps the same node id afterwards", async () => {
    gateway = await FakeGateway.start();
    const path = join(tempDir(), "node", "key.json");
    const a = await startTestProvider(gateway, { keyFile: path }, { runtimes: { wasm: new ControlledRuntime() } });
    expect(loadKeyFile(path).id).toBe(a.nodeId);
    await a.stop();
    const b = await startTestProvider(gateway, { keyFile: path }, { runtimes: { wasm: new ControlledRuntime() } });
    expect(b.nodeId).toBe(a.nodeId);
  });

  it("stops for good when the gateway speaks another protocol version", async () => {
    gateway = await FakeGateway.start({ protocolVersion: PROTOCOL_VERSION + 1 });
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: new ControlledRuntime() } });
    const exit = await provider.closed;
    expect(exit.reason).toBe("version_mismatch");
    expect(exit.message).toMatch(/protocol version/);
    const conn = await gateway.connection(0);
    expect(conn.hello).toBeUndefined();
    // Longer than several backoff rounds of this provider (5..20 ms): still one connection.
    await new Promise((r) => setTimeout(r, 150));
    expect(gateway.connections).toHaveLength(1);
  });

  it("stops for good when the gateway closes with 4001 (key refused)", async () => {
    gateway = await FakeGateway.start();
    const provider = await startTestProvider(gateway, {}, { runtimes: { wasm: new ControlledRuntime() } });
    await gateway.session(0);
    const conn = gateway.connections[0];
    conn?.ws.close(4001, "authentication failed");
    const exit = await provider.closed;
    expect(exit.reason).toBe("auth_failed");
    await new Promise((r) => setTimeout(r, 150));
    expect(gateway.connections).toHaveLength(1);
  });

  it("ignores invalid frames and keeps working", async () => {
    gateway = await FakeGateway.start();
    const runtime = new ControlledRuntime();
    await startTestProvider(gateway, {}, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.sendRaw("not json");
    conn.send({ type: "lease", jobId: "j-bad" }); // missing fields
    conn.send({ type: "surprise" });
    conn.sendRaw(JSON.stringify({ type: "ack", jobId: "x", attempt: 0, accepted: true })); // attempt must be positive
    conn.send({ type: "lease", jobId: "j1", attempt: 1, spec: fakeSpec("ok"), leaseExpiresAt: Date.now() + 10_000 });
    await runtime.whenStarted("j1");
    runtime.finish("j1");
    const result = await conn.waitFor("result", (m) => m.jobId === "j1");
    expect(result.attempt).toBe(1);
    expect(runtime.started).toEqual(["j1"]);
  });
});
