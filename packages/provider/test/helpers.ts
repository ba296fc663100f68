// Shared pieces of the provider tests: a provider pointed at a fake gateway, and a runtime
// whose jobs finish only when the test says so.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  canonicalHash,
  generateIdentity,
  sha256Hex,
  signResult,
  type VerdictReport,
  type WasmJobSpec,
} from "@tessera/protocol";
import { type ClaimedResult, type ExecuteContext, type ExecuteResult, JobFault, type Runtime } from "@tessera/runtimes";
import { afterEach } from "vitest";
import { type ProviderConfigInput, type ProviderDeps, type ProviderHandle, startProvider } from "../src/index.js";
import type { FakeGateway } from "./fake-gateway.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tessera-provider-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startTestProvider(
  gateway: FakeGateway,
  config: Partial<ProviderConfigInput> = {},
  deps: ProviderDeps = {},
): Promise<ProviderHandle> {
  const dir = tempDir();
  const handle = await startProvider(
    {
      gateway: gateway.url,
      keyFile: join(dir, "key.json"),
      region: "test-1",
      price: 10,
      dataDir: dir,
      concurrency: 2,
      reconnectInitialMs: 5,
      reconnectMaxMs: 20,
      logLevel: "silent",
      ...config,
    },
    { throughput: 1000, ...deps },
  );
  onCleanup(() => handle.stop());
  return handle;
}

/** A wasm-shaped job spec for the controlled runtime; `tag` goes in as the input. */
export function fakeSpec(tag: string, maxMemoryMb = 64): WasmJobSpec {
  return {
    runtime: "wasm",
    module: sha256Hex("fake module"),
    input: { data: Buffer.from(tag).toString("base64") },
    limits: { timeoutMs: 10_000, maxMemoryMb },
  };
}

/** A lease of a fakeSpec job, valid for ten seconds. */
export function fakeLease(jobId: string, attempt = 1) {
  return { type: "lease" as const, jobId, attempt, spec: fakeSpec(jobId), leaseExpiresAt: Date.now() + 10_000 };
}

/** A lease of a fakeSpec job with `maxMemoryMb` of WASM memory (for the memory budget's tests). */
export function memoryLease(jobId: string, maxMemoryMb: number, extra: { interruptible?: boolean } = {}) {
  return { ...fakeLease(jobId), spec: fakeSpec(jobId, maxMemoryMb), ...extra };
}

/**
 * An audit of a result of `spec` that another node signed, as the gateway sends it to a verifier;
 * `outputHash` is what a verdict on it is signed over.
 */
export function fakeAudit(auditId: string, jobId: string, spec: WasmJobSpec) {
  const audited = generateIdentity();
  const output = { data: Buffer.from("out").toString("base64") };
  const outputHash = canonicalHash(output);
  const units = { inputTokens: 0, outputTokens: 0, standardUnits: 1 };
  return {
    type: "audit" as const,
    auditId,
    jobId,
    attempt: 1,
    providerId: audited.id,
    spec,
    output,
    outputHash,
    units,
    signature: signResult(audited, { jobId, attempt: 1, outputHash, units }),
  };
}

type Outcome = { kind: "ok" } | { kind: "fault"; message: string } | { kind: "error"; message: string };

interface Pending {
  ctx: ExecuteContext;
  finish(outcome: Outcome): void;
}

/** Runs nothing: each job waits until the test releases it (or its signal aborts). */
export class ControlledRuntime implements Runtime<WasmJobSpec> {
  readonly name = "wasm" as const;
  active = 0;
  peak = 0;
  readonly started: string[] = [];
  readonly aborted: string[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly startWaiters = new Map<string, Array<() => void>>();

  async execute(spec: WasmJobSpec, ctx: ExecuteContext): Promise<ExecuteResult> {
    const input = "data" in spec.input ? spec.input.data : "";
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    this.started.push(ctx.jobId);
    try {
      const outcome = await new Promise<Outcome>((resolve, reject) => {
        this.pending.set(ctx.jobId, { ctx, finish: resolve });
        ctx.signal.addEventListener("abort", () => {
          this.aborted.push(ctx.jobId);
          reject(ctx.signal.reason);
        });
        for (const wake of this.startWaiters.get(ctx.jobId)?.splice(0) ?? []) wake();
      });
      if (outcome.kind === "fault") throw new JobFault(outcome.message);
      if (outcome.kind === "error") throw new Error(outcome.message);
      return { output: { data: input }, units: { inputTokens: 0, outputTokens: 0, standardUnits: 7 } };
    } finally {
      this.pending.delete(ctx.jobId);
      this.active--;
    }
  }

  /** Resolves once the job is executing here. */
  whenStarted(jobId: string): Promise<void> {
    if (this.pending.has(jobId)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.startWaiters.get(jobId) ?? [];
      list.push(resolve);
      this.startWaiters.set(jobId, list);
    });
  }

  finish(jobId: string, outcome: Outcome = { kind: "ok" }): void {
    const p = this.pending.get(jobId);
    if (!p) throw new Error(`job ${jobId} is not running`);
    p.finish(outcome);
  }

  isRunning(jobId: string): boolean {
    return this.pending.has(jobId);
  }

  async close(): Promise<void> {}
}

/** Waits until `check` holds, polling; the test's own timeout bounds it. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

/** A controlled runtime whose audits (verify) also wait until the test ends them, or their signal aborts. */
export class ControlledVerifier extends ControlledRuntime {
  readonly verifying: string[] = [];
  readonly abortedAudits: string[] = [];
  private readonly verdicts = new Map<string, (r: VerdictReport) => void>();

  verify(
    _spec: WasmJobSpec,
    _claim: ClaimedResult,
    ctx: { jobId: string; signal: AbortSignal },
  ): Promise<VerdictReport> {
    this.verifying.push(ctx.jobId);
    return new Promise((resolve, reject) => {
      this.verdicts.set(ctx.jobId, resolve);
      ctx.signal.addEventListener("abort", () => {
        this.abortedAudits.push(ctx.jobId);
        reject(ctx.signal.reason);
      });
    });
  }

  endAudit(jobId: string): void {
    this.verdicts.get(jobId)?.({ pass: true, reasons: [], checks: ["hash"], metrics: {} });
  }
}
