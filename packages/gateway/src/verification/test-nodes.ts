// Test helpers: provider and verifier sessions of given operators that record what the gateway
// sends them, a settled llm job to audit, and a signed verdict. Real identities and signatures.
import type { JobRecord } from "@tessera/core";
import {
  type Capabilities,
  canonicalHash,
  type GatewayMessage,
  generateIdentity,
  type Identity,
  signResult,
  signVerdict,
  type VerdictMessage,
  type WasmOutput,
} from "@tessera/protocol";
import type { ProviderSession } from "../engine/sessions.js";

export const TEST_MODEL = "a".repeat(64);
export const TEST_OUTPUT_HASH = "b".repeat(64);

export interface TestNode {
  identity: Identity;
  session: ProviderSession;
  sent: GatewayMessage[];
}

export function testNode(operator: string, verifier: boolean, caps: Partial<Capabilities> = {}): TestNode {
  const identity = generateIdentity();
  const sent: GatewayMessage[] = [];
  const session: ProviderSession = {
    id: identity.id,
    capabilities: {
      runtimes: ["llm"],
      models: [{ id: TEST_MODEL, name: "tiny", parameters: 1000, contextSize: 256 }],
      pricePerUnit: 50,
      region: operator,
      maxConcurrency: 2,
      throughput: 1,
      operator,
      ...(verifier ? { verifier: true } : {}),
      ...caps,
    },
    connectedAt: 0,
    draining: false,
    online: true,
    completed: 0,
    failed: 0,
    msPerUnit: null,
    send: (m) => void sent.push(m),
    close: () => {},
  };
  return { identity, session, sent };
}

/** The audits a node was sent, oldest first. */
export function auditsSent(n: TestNode): Array<Extract<GatewayMessage, { type: "audit" }>> {
  return n.sent.filter((m): m is Extract<GatewayMessage, { type: "audit" }> => m.type === "audit");
}

/**
 * A verdict on an audit, signed by the node; `inconclusive` as a verifier that could not check
 * sends it (provider/src/auditor.ts: pass, metrics.inconclusive = 1).
 */
export function verdictOf(
  n: TestNode,
  auditId: string,
  jobId: string,
  pass: boolean,
  opts: { inconclusive?: boolean; outputHash?: string } = {},
): VerdictMessage {
  const claim = { auditId, jobId, outputHash: opts.outputHash ?? TEST_OUTPUT_HASH, pass };
  return {
    type: "verdict",
    auditId,
    jobId,
    report: { pass, reasons: [], checks: [], metrics: opts.inconclusive ? { inconclusive: 1 } : {} },
    signature: signVerdict(n.identity, claim),
    elapsedMs: 1,
  };
}

/** A completed llm job of `providerId`, signed and ready to audit. */
export function testJob(id: string, providerId: string, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    consumerId: "c1",
    spec: { runtime: "llm", model: TEST_MODEL, input: { prompt: "hi" } } as JobRecord["spec"],
    constraints: {},
    jobClass: "interactive",
    status: "completed",
    attempt: 1,
    maxAttempts: 3,
    providerId,
    pricePerUnit: 50,
    leaseExpiresAt: null,
    triedProviders: [],
    escrow: 0n,
    cost: 100n,
    units: { inputTokens: 1, outputTokens: 1, standardUnits: 1 } as JobRecord["units"],
    output: { text: "x", tokens: [1], logprobs: [-1], finishReason: "length" } as unknown as JobRecord["output"],
    outputHash: TEST_OUTPUT_HASH,
    signature: "sig",
    error: null,
    idempotencyKey: null,
    requestHash: "r",
    createdAt: 0,
    updatedAt: 0,
    startedAt: 0,
    finishedAt: 0,
    deadlineAt: null,
    ...overrides,
  };
}

/** The output of the wasm results below: base64 of "out". */
export const WASM_OUTPUT = { data: Buffer.from("out").toString("base64") };

/** A wasm result frame signed by the node. */
export function signedResult(n: TestNode, jobId: string, standardUnits: number, data = WASM_OUTPUT.data, attempt = 1) {
  return signedWasmOutput(n, jobId, standardUnits, { data }, attempt);
}

/** A WASM result with any output (out of fuel, say), signed by `n`. */
export function signedWasmOutput(n: TestNode, jobId: string, standardUnits: number, output: WasmOutput, attempt = 1) {
  const claim = {
    jobId,
    attempt,
    outputHash: canonicalHash(output),
    units: { inputTokens: 0, outputTokens: 0, standardUnits },
  };
  return { type: "result" as const, ...claim, output, signature: signResult(n.identity, claim), elapsedMs: 1 };
}
