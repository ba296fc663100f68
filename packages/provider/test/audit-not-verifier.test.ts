// An audit reaching a node started without --verify was dropped without a word: the gateway
// waited out its verdict timeout before asking another verifier. It is answered at once with an
// inconclusive verdict (no verdict against the provider, no fee; the gateway asks the next
// verifier) saying why, and logged.
import { Writable } from "node:stream";
import { verifyVerdictSignature } from "@tessera/protocol";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { ControlledRuntime, fakeAudit, fakeSpec, startTestProvider } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

describe("an audit sent to a node that does not verify", () => {
  it("is answered with a signed inconclusive verdict saying so, and logged", async () => {
    gateway = await FakeGateway.start();
    const warnings: Array<{ msg: string; auditId?: string; reason?: string }> = [];
    const sink = new Writable({
      write(line, _enc, done) {
        const entry = JSON.parse(line.toString());
        if (entry.level === 40) warnings.push(entry);
        done();
      },
    });
    const runtime = new ControlledRuntime();
    const provider = await startTestProvider(
      gateway,
      {},
      { runtimes: { wasm: runtime }, logger: pino({ level: "warn" }, sink) },
    );
    const conn = await gateway.session(0);
    const audit = fakeAudit("audit-1", "audited", fakeSpec("audited"));
    conn.send(audit);
    const verdict = await conn.waitFor("verdict", (m) => m.auditId === "audit-1");
    expect(verdict.jobId).toBe("audited");
    expect(verdict.report).toEqual({
      pass: true,
      reasons: ["this node does not verify (started without --verify)"],
      checks: [],
      metrics: { inconclusive: 1 },
    });
    const claim = { auditId: "audit-1", jobId: "audited", outputHash: audit.outputHash, pass: true };
    expect(verifyVerdictSignature(provider.nodeId, claim, verdict.signature)).toBe(true);
    // nothing was run to answer it
    expect(runtime.started).toEqual([]);
    expect(warnings).toContainEqual(
      expect.objectContaining({ auditId: "audit-1", reason: expect.stringContaining("--verify") }),
    );
  });
});
