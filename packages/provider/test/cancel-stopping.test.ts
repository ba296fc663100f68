// A cancel for a job already stopping (a heartbeat named it while it unwound, and the gateway,
// which no longer holds its lease, says to stop it again) is not counted a second time.
import type { WasmJobSpec } from "@tessera/protocol";
import type { ExecuteContext, ExecuteResult, Runtime } from "@tessera/runtimes";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGateway } from "./fake-gateway.js";
import { fakeLease, startTestProvider } from "./helpers.js";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

/** A runtime whose jobs, once aborted, unwind only when the test lets them. */
class SlowToStop implements Runtime<WasmJobSpec> {
  readonly name = "wasm" as const;
  readonly unwind: Array<() => void> = [];
  started = 0;
  execute(_spec: WasmJobSpec, ctx: ExecuteContext): Promise<ExecuteResult> {
    this.started++;
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => this.unwind.push(() => reject(ctx.signal.reason)));
    });
  }
  async close(): Promise<void> {}
}

describe("a cancel for a job already stopping", () => {
  it("is counted once, for a job cancelled or released while it unwinds", async () => {
    gateway = await FakeGateway.start();
    const runtime = new SlowToStop();
    const provider = await startTestProvider(gateway, { concurrency: 2 }, { runtimes: { wasm: runtime } });
    const conn = await gateway.session(0);
    conn.send(fakeLease("a"));
    conn.send({ ...fakeLease("batch"), interruptible: true });
    await expect.poll(() => runtime.started).toBe(2);
    conn.send({ type: "cancel", jobId: "a", attempt: 1, reason: "cancelled by the consumer" });
    provider.pause(true);
    await conn.waitFor("release", (m) => m.jobId === "batch");
    await expect.poll(() => runtime.unwind.length).toBe(2);
    // both still unwinding: a heartbeat names them, and the gateway says to stop them
    conn.send({ type: "cancel", jobId: "a", attempt: 1, reason: "this lease is no longer held" });
    conn.send({ type: "cancel", jobId: "batch", attempt: 1, reason: "this lease is no longer held" });
    // frames are handled in order: the answer to a lease sent after them comes after they were
    const probe = {
      type: "lease" as const,
      jobId: "probe",
      attempt: 1,
      leaseExpiresAt: Date.now() + 10_000,
      spec: {
        runtime: "llm" as const,
        model: "f".repeat(64),
        input: { prompt: "hi" },
        params: { temperature: 0 },
        limits: { maxOutputTokens: 1 },
      },
    };
    conn.send(probe);
    await conn.waitFor("failure", (m) => m.jobId === "probe");
    for (const stop of runtime.unwind) stop();
    await expect.poll(() => provider.stats().running).toBe(0);
    expect(provider.stats()).toMatchObject({ cancelled: 1, released: 1 });
  });
});
