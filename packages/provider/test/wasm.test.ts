import { existsSync } from "node:fs";
import { join } from "node:path";
import { canonicalHash, sha256Hex, verifyResultSignature } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { startTestProvider, tempDir } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("provider with the real wasm runtime", () => {
  it("fetches the module from the gateway, runs it and returns a signed, hash-matching result", async () => {
    gateway = await FakeGateway.start();
    const moduleId = gateway.putBlob(await loadBuiltinModule("reverse"));
    const dataDir = tempDir();
    const provider = await startTestProvider(gateway, { dataDir });
    expect(provider.capabilities.runtimes).toEqual(["wasm"]);
    const conn = await gateway.session(0);
    conn.send({
      type: "lease",
      jobId: "rev-1",
      attempt: 1,
      spec: { runtime: "wasm", module: moduleId, input: { data: b64("hello tessera") } },
      leaseExpiresAt: Date.now() + 10_000,
    });
    const result = await conn.waitFor("result", (m) => m.jobId === "rev-1");
    expect(result.output).toEqual({ data: b64("aresset olleh") });
    expect(result.outputHash).toBe(canonicalHash(result.output));
    expect(verifyResultSignature(provider.nodeId, result, result.signature)).toBe(true);
    expect(result.units.standardUnits).toBeGreaterThanOrEqual(1);
    expect(gateway.blobRequests).toEqual([moduleId]);
    expect(existsSync(join(dataDir, "blobs", moduleId))).toBe(true);
  });

  it("reads blob inputs from the gateway and fetches each blob once", async () => {
    gateway = await FakeGateway.start();
    const moduleId = gateway.putBlob(await loadBuiltinModule("reverse"));
    const inputId = gateway.putBlob(new TextEncoder().encode("abc"));
    await startTestProvider(gateway);
    const conn = await gateway.session(0);
    for (const jobId of ["b1", "b2"]) {
      conn.send({
        type: "lease",
        jobId,
        attempt: 1,
        spec: { runtime: "wasm", module: moduleId, input: { blob: inputId } },
        leaseExpiresAt: Date.now() + 10_000,
      });
      const result = await conn.waitFor("result", (m) => m.jobId === jobId);
      expect(result.output).toEqual({ data: b64("cba") });
    }
    expect(gateway.blobRequests.filter((id) => id === moduleId)).toHaveLength(1);
    expect(gateway.blobRequests.filter((id) => id === inputId)).toHaveLength(1);
  });

  it("fails the job when the gateway serves bytes that do not match the id, and as a fault when it has none", async () => {
    gateway = await FakeGateway.start();
    const wrongId = sha256Hex("something else");
    gateway.blobs.set(wrongId, await loadBuiltinModule("reverse"));
    await startTestProvider(gateway);
    const conn = await gateway.session(0);
    conn.send({
      type: "lease",
      jobId: "tampered",
      attempt: 1,
      spec: { runtime: "wasm", module: wrongId, input: { data: b64("x") } },
      leaseExpiresAt: Date.now() + 10_000,
    });
    const tampered = await conn.waitFor("failure", (m) => m.jobId === "tampered");
    expect(tampered.reason).toMatch(/hash/);
    conn.send({
      type: "lease",
      jobId: "missing",
      attempt: 1,
      spec: { runtime: "wasm", module: sha256Hex("nowhere"), input: { data: b64("x") } },
      leaseExpiresAt: Date.now() + 10_000,
    });
    const missing = await conn.waitFor("failure", (m) => m.jobId === "missing");
    expect(missing.retryable).toBe(false);
    expect(conn.of("result")).toEqual([]);
  });
});
