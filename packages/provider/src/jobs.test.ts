import { generateIdentity, type ProviderMessage, sha256Hex, type WasmJobSpec } from "@tessera/protocol";
import type { ExecuteResult, Runtime } from "@tessera/runtimes";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { JobRunner } from "./jobs.js";

/** A wasm runtime whose every job returns `size` bytes of output. */
function outputOf(size: number): Runtime<WasmJobSpec> {
  return {
    name: "wasm",
    async execute(): Promise<ExecuteResult> {
      return {
        output: { data: Buffer.alloc(size, 7).toString("base64") },
        units: { inputTokens: 0, outputTokens: 0, standardUnits: 1 },
      };
    },
    async verify() {
      throw new Error("not used");
    },
    async close() {},
  };
}

function runner(runtime: Runtime<WasmJobSpec>, maxFrameBytes: number) {
  const sent: ProviderMessage[] = [];
  const jobs = new JobRunner({
    identity: generateIdentity(),
    runtimes: { wasm: runtime },
    offered: ["wasm"],
    modelIds: new Set(),
    concurrency: 1,
    log: pino({ level: "silent" }),
    send: (msg) => {
      sent.push(msg);
      return true;
    },
    maxFrameBytes,
  });
  return { jobs, sent };
}

function lease(jobId: string) {
  const spec: WasmJobSpec = {
    runtime: "wasm",
    module: sha256Hex("module"),
    input: { data: "" },
    limits: { timeoutMs: 1000, maxMemoryMb: 1 },
  };
  return { type: "lease" as const, jobId, attempt: 1, spec, leaseExpiresAt: Date.now() + 10_000 };
}

describe("JobRunner: result frame size", () => {
  it("sends a result that fits the gateway's frame limit and keeps it until acked", async () => {
    const { jobs, sent } = runner(outputOf(1000), 4096);
    jobs.handleLease(lease("small"));
    await expect.poll(() => sent.map((m) => m.type)).toEqual(["result"]);
    expect(jobs.stats().outbox).toBe(1);
  });

  it("fails a job whose result frame the gateway would refuse, as the job's fault, and keeps nothing to resend", async () => {
    const { jobs, sent } = runner(outputOf(8192), 4096);
    jobs.handleLease(lease("big"));
    await expect.poll(() => sent.length).toBe(1);
    expect(sent[0]).toMatchObject({ type: "failure", jobId: "big", attempt: 1, retryable: false });
    expect((sent[0] as { reason: string }).reason).toMatch(
      /result is a \d+-byte frame; the gateway accepts at most 4096/,
    );
    expect(jobs.stats()).toMatchObject({ outbox: 0, failed: 1, completed: 0 });
    await jobs.idle();
  });
});
