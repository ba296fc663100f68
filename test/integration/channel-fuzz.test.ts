// Bad frames from a node, generated. A raw channel client (signed in; no capacity proof asked)
// answers what a real gateway process sends it with frames fast-check derives from valid ones (a
// field set to any JSON value, deleted, or a stranger added; random JSON; not JSON):
// - as a provider, each lease with results, chunks, failures, heartbeats and releases, then it
//   gives the lease back properly; it dials again whenever the gateway closes it, as a new node
//   when it is no longer leased to;
// - as a verifier, each audit of an honest provider's result with verdicts (pass and fail, signed),
//   heartbeats and failures, then a signed pass.
// The gateway must stay up and keep answering, and nothing may be lost: every job ends, every
// completed job holds the right output, no escrow is left, and the consumer's deposit is its
// balance plus the costs of its jobs; one verifier's frames, whatever they are, never slash.
import { type Capabilities, generateIdentity, signVerdict } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";
import type { JobView } from "@tessera/sdk";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyPlan, fuzzRuns, gatewayUp, type Json, settledJobs, wasmData } from "../helpers/fuzz.js";
import { TestNetwork } from "../helpers/network.js";
import { type RawProvider, rawProvider, signedWasmResult } from "../helpers/raw-provider.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

const caps: Capabilities = {
  runtimes: ["wasm"],
  models: [],
  pricePerUnit: 10,
  region: "fuzz",
  maxConcurrency: 4,
  throughput: 1_000,
  wasmMemoryMb: 100,
  operator: "op-fuzz",
};

const KINDS = ["result", "result", "result", "chunk", "failure", "heartbeat", "release"] as const;
type Kind = (typeof KINDS)[number];

const reversed = (text: string) => b64([...text].reverse().join(""));

/** A consumer of a test network, with what the checks at the end need. */
class Consumer {
  apiKey = "";
  module = "";
  /** each job's input text, to check its output by */
  readonly inputs = new Map<string, string>();
  constructor(
    readonly net: TestNetwork,
    readonly deposit = 1_000n * 1_000_000_000n,
  ) {}

  async start(): Promise<void> {
    const { apiKey, client } = await this.net.consumer(this.deposit);
    this.apiKey = apiKey;
    this.module = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
  }

  /** Submits `reverse` on `text`, to be run in one of `regions` when given; the job's id. */
  async submit(text: string, regions?: string[]): Promise<string> {
    const res = await fetch(`${this.net.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        runtime: "wasm",
        module: this.module,
        input: { data: b64(text) },
        limits: { timeoutMs: 2_000, maxMemoryMb: 16 },
        ...(regions ? { constraints: { regions } } : {}),
      }),
    });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { id: string }).id;
    this.inputs.set(id, text);
    return id;
  }

  /** Waits for every job to end, checks nothing was lost (settledJobs) and every output, and returns them. */
  async settled(): Promise<JobView[]> {
    const jobs = await settledJobs(this.net, this.apiKey, this.deposit);
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(this.inputs.keys()));
    const wrong = jobs.filter((j) => j.status === "completed" && wasmData(j) !== reversed(this.inputs.get(j.id) ?? ""));
    expect(wrong).toEqual([]);
    return jobs;
  }
}

describe("the provider channel under a provider's generated bad frames", () => {
  const net = new TestNetwork();
  const consumer = new Consumer(net);
  let identity = generateIdentity();
  /** every identity the fuzzing node has dialled as */
  const fuzzers = new Set([identity.id]);
  let node: RawProvider | undefined;

  /** The valid frame of `kind` for a lease: a result is signed and holds the right output. */
  const validFrame = (kind: Kind, jobId: string, attempt: number): Json => {
    if (kind === "result")
      return signedWasmResult(identity, jobId, attempt, reversed(consumer.inputs.get(jobId) ?? ""));
    if (kind === "chunk") return { type: "chunk", jobId, attempt, seq: 0, text: "ab" };
    if (kind === "failure") return { type: "failure", jobId, attempt, reason: "fuzz", retryable: true };
    if (kind === "heartbeat") return { type: "heartbeat", running: [{ jobId, attempt }] };
    return { type: "release", jobId, attempt, reason: "fuzz" };
  };

  beforeAll(async () => {
    await net.startGateway(["--rate-limit", "0", "--no-capacity-proof"]);
    await consumer.start();
  }, 120_000);
  afterAll(async () => {
    node?.ws.close();
    await net.stop();
  });

  it("stays up through them and loses no job or credit", async () => {
    const run = fc.record({
      text: fc.string({ minLength: 1, maxLength: 12, unit: "grapheme-ascii" }),
      frames: fc.array(fc.record({ kind: fc.constantFrom(...KINDS), plan: bodyPlan }), { minLength: 1, maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ text, frames }) => {
        if (!node || node.ws.readyState !== node.ws.OPEN) node = await rawProvider(net.port, caps, identity);
        await consumer.submit(text);
        // this job's lease or an earlier one's, sent again
        const lease = await node.next((m) => m.type === "lease", 5_000).catch(() => undefined);
        if (!lease) {
          // no longer leased to (its reputation, or a close on the way): a new node next time
          node.ws.close();
          identity = generateIdentity();
          fuzzers.add(identity.id);
          return;
        }
        const jobId = lease.jobId as string;
        const attempt = lease.attempt as number;
        for (const { kind, plan } of frames) node.send(plan(validFrame(kind, jobId, attempt)));
        node.send(validFrame("release", jobId, attempt));
        await gatewayUp(net);
      }),
      fuzzRuns(200),
    );
    node?.ws.close();
    await node?.closed;

    // an honest node takes over whatever is still queued, at the fuzzer's price (the jobs were
    // escrowed at it: a dearer node would leave them to fail as outpriced after 30 s)
    await net.startProvider({ runtimes: ["wasm"], price: caps.pricePerUnit });
    const jobs = await consumer.settled();
    // some generated results were taken as they were, and some jobs ran out of attempts on the fuzzer
    expect(jobs.some((j) => j.status === "completed" && fuzzers.has(j.provider ?? ""))).toBe(true);
    expect(jobs.some((j) => j.status === "failed")).toBe(true);
  }, 900_000);
});

const VERIFIER_KINDS = ["pass", "fail", "pass", "fail", "heartbeat", "failure"] as const;
type VerifierKind = (typeof VERIFIER_KINDS)[number];

describe("the provider channel under a verifier's generated bad frames", () => {
  const net = new TestNetwork();
  const consumer = new Consumer(net);
  const identity = generateIdentity();
  let verifier: RawProvider;

  const validFrame = (kind: VerifierKind, audit: Record<string, unknown>): Json => {
    const { auditId, jobId, outputHash } = audit as { auditId: string; jobId: string; outputHash: string };
    if (kind === "heartbeat") return { type: "heartbeat", running: [], audits: [{ auditId, wasmMemoryMb: 16 }] };
    if (kind === "failure") return { type: "failure", jobId, attempt: 1, reason: "fuzz", retryable: false };
    const pass = kind === "pass";
    return {
      type: "verdict",
      auditId,
      jobId,
      report: { pass, reasons: pass ? [] : ["fuzz"], checks: ["reexecute"], metrics: { fuzz: 1 } },
      signature: signVerdict(identity, { auditId, jobId, outputHash, pass }),
      elapsedMs: 4,
    };
  };

  beforeAll(async () => {
    await net.startGateway([
      "--rate-limit",
      "0",
      "--no-capacity-proof",
      // every result audited, by the fuzzing verifier: the only one of another operator
      "--audit-new-rate",
      "1",
      "--audit-floor",
      "1",
      "--pass-recheck-rate",
      "0",
      "--canary-rate",
      "0",
      "--verifier-canary-rate",
      "0",
      "--fail-canary-rate",
      "0",
    ]);
    await consumer.start();
    await net.startProvider({ runtimes: ["wasm"] });
    await net.waitForProviders(1);
    verifier = await rawProvider(net.port, { ...caps, verifier: true, region: "fuzz-verifier" }, identity);
  }, 120_000);
  afterAll(async () => {
    verifier?.ws.close();
    await net.stop();
  });

  it("stays up through them, never slashes the honest provider and loses no job or credit", async () => {
    let audits = 0;
    const run = fc.record({
      text: fc.string({ minLength: 1, maxLength: 12, unit: "grapheme-ascii" }),
      frames: fc.array(fc.record({ kind: fc.constantFrom(...VERIFIER_KINDS), plan: bodyPlan }), {
        minLength: 1,
        maxLength: 3,
      }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ text, frames }) => {
        if (verifier.ws.readyState !== verifier.ws.OPEN)
          verifier = await rawProvider(net.port, { ...caps, verifier: true, region: "fuzz-verifier" }, identity);
        // run by the honest provider (TestNetwork's first region), not left waiting on the raw node
        const jobId = await consumer.submit(text, ["region-1"]);
        const audit = await verifier
          .next((m) => m.type === "audit" && m.jobId === jobId, 30_000)
          .catch(() => undefined);
        if (!audit) return;
        audits++;
        for (const { kind, plan } of frames) verifier.send(plan(validFrame(kind, audit)));
        verifier.send(validFrame("pass", audit));
        await gatewayUp(net);
      }),
      fuzzRuns(150),
    );
    expect(audits).toBeGreaterThan(0);
    await consumer.settled();
    const nodes = (await (await fetch(`${net.url}/v1/verification/nodes`)).json()) as {
      data: { id: string; verifier: boolean; slashed: string; auditsFailed: number }[];
    };
    const honest = nodes.data.filter((n) => !n.verifier);
    expect(honest.length).toBe(1);
    expect(honest[0]?.slashed).toBe("0");
  }, 900_000);
});
