// Test helpers: provider and verifier sessions of given operators that record what the gateway
// sends them, and a signed verdict from one of them. Real identities and signatures.
import {
  type GatewayMessage,
  generateIdentity,
  type Identity,
  signVerdict,
  type VerdictMessage,
} from "@tessera/protocol";
import type { ProviderSession } from "../engine/sessions.js";

export const TEST_MODEL = "a".repeat(64);
export const TEST_OUTPUT_HASH = "b".repeat(64);

export interface TestNode {
  identity: Identity;
  session: ProviderSession;
  sent: GatewayMessage[];
}

export function testNode(operator: string, verifier: boolean): TestNode {
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

/** A verdict on an audit, signed by the node. */
export function verdictOf(n: TestNode, auditId: string, jobId: string, pass: boolean): VerdictMessage {
  const claim = { auditId, jobId, outputHash: TEST_OUTPUT_HASH, pass };
  return {
    type: "verdict",
    auditId,
    jobId,
    report: { pass, reasons: [], checks: [], metrics: {} },
    signature: signVerdict(n.identity, claim),
    elapsedMs: 1,
  };
}
