// A provider under a broken or hostile gateway, generated: a real `tessera provider --verify`
// process dials a stand-in gateway (an HTTP server speaking the provider channel's handshake),
// which then sends it frames fast-check derives from valid ones (leases, cancels, acks, errors,
// audits of a real result, audit cancels, capacity challenges, a second challenge or welcome: a
// field set to any JSON value, deleted, or a stranger added; random JSON; not JSON). The
// provider must stay up, every frame it sends must be a valid provider message, and afterwards
// it must still run a lease and return a correctly signed result.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  canonicalHash,
  type FailureMsg,
  PROTOCOL_VERSION,
  ProviderMessageSchema,
  type ResultMessage,
  verifyResultSignature,
} from "@tessera/protocol";
import { sha256File } from "@tessera/runtimes";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import type { z } from "zod";
import { bodyPlan, fuzzRuns, type Json } from "../helpers/fuzz.js";
import { TestNetwork, tinyModel, until } from "../helpers/network.js";

type FailureMessage = z.infer<typeof FailureMsg>;

const jobId = () => `job_${randomBytes(14).toString("hex")}`;

/** The stand-in gateway: one provider at a time, handshake done, every frame it sends kept. */
class FakeGateway {
  readonly http: Server = createServer((_req, res) => res.writeHead(404).end());
  readonly wss = new WebSocketServer({ server: this.http, path: "/v1/provider/connect" });
  socket: WebSocket | undefined;
  nodeId = "";
  /** every frame the provider sent, as text */
  readonly received: string[] = [];

  constructor() {
    this.wss.on("connection", (ws) => {
      ws.send(JSON.stringify({ type: "challenge", protocolVersion: PROTOCOL_VERSION, gatewayId: "fake", nonce: "n" }));
      ws.on("message", (data) => {
        const text = data.toString();
        this.received.push(text);
        const msg = JSON.parse(text) as { type: string; nodeId?: string };
        if (msg.type === "hello") {
          this.nodeId = msg.nodeId ?? "";
          ws.send(JSON.stringify({ type: "welcome", nodeId: this.nodeId, heartbeatMs: 1_000, leaseMs: 60_000 }));
          this.socket = ws;
        }
      });
    });
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  send(text: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  /** The provider's answer to the lease of `id`: its result, or its failure. */
  answer(id: string): Promise<ResultMessage | FailureMessage> {
    return until(`the answer to ${id}`, async () => {
      for (const text of this.received) {
        const msg = JSON.parse(text) as ResultMessage | FailureMessage;
        if ((msg.type === "result" || msg.type === "failure") && msg.jobId === id) return msg;
      }
      return undefined;
    });
  }
}

describe("a provider under a gateway's generated bad frames", () => {
  const net = new TestNetwork();
  const gateway = new FakeGateway();
  let model: string;

  const lease = (id: string, maxOutputTokens = 3): Json => ({
    type: "lease",
    jobId: id,
    attempt: 1,
    spec: {
      runtime: "llm",
      model,
      input: { prompt: "hello" },
      params: { temperature: 0 },
      limits: { maxOutputTokens },
    },
    leaseExpiresAt: Date.now() + 60_000,
    stream: false,
  });

  /**
   * Leases a job and checks the result that comes back: signed by the node, hash and units as
   * claimed. Leased again while the node is at capacity (generated leases may hold its slots).
   */
  const runsALease = async (): Promise<ResultMessage> => {
    for (;;) {
      const id = jobId();
      gateway.send(JSON.stringify(lease(id)));
      const r = await gateway.answer(id);
      if (r.type === "failure") {
        expect(r.reason).toBe("provider at capacity");
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      expect(r.outputHash).toBe(canonicalHash(r.output));
      const claim = { jobId: id, attempt: 1, outputHash: r.outputHash, units: r.units };
      expect(verifyResultSignature(gateway.nodeId, claim, r.signature)).toBe(true);
      return r;
    }
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => gateway.http.listen(0, "127.0.0.1", resolve));
    const path = await tinyModel();
    model = await sha256File(path);
    net.port = gateway.port;
    await net.startProvider({ runtimes: ["llm"], models: [path], extra: ["--verify"] });
    await until("the provider to be welcomed", async () => gateway.socket !== undefined, 120_000);
  }, 180_000);
  afterAll(async () => {
    await net.stop();
    for (const ws of gateway.wss.clients) ws.terminate();
    gateway.wss.close();
    gateway.http.close();
  });

  it("stays up, sends only valid frames, and still runs a lease afterwards", async () => {
    // an audit of a real result, as a gateway would send another verifier
    const real = await runsALease();
    const templates: Record<string, () => Json> = {
      lease: () => lease(jobId()),
      cancel: () => ({ type: "cancel", jobId: jobId(), attempt: 1, reason: "fuzz" }),
      ack: () => ({ type: "ack", jobId: jobId(), attempt: 1, accepted: true }),
      error: () => ({ type: "error", code: "fuzz", message: "fuzz" }),
      audit: () => ({
        type: "audit",
        auditId: `aud_${randomBytes(8).toString("hex")}`,
        jobId: real.jobId,
        attempt: 1,
        providerId: randomBytes(32).toString("hex"),
        spec: (lease(real.jobId) as { spec: Json }).spec,
        output: real.output as unknown as Json,
        outputHash: real.outputHash,
        units: real.units as unknown as Json,
        signature: real.signature,
      }),
      audit_cancel: () => ({ type: "audit_cancel", auditId: "aud_0", reason: "fuzz" }),
      capacity_challenge: () => ({
        type: "capacity_challenge",
        challengeId: "c1",
        n: 16,
        seedA: 1,
        seedB: 2,
        deadlineMs: 5_000,
      }),
      challenge: () => ({ type: "challenge", protocolVersion: PROTOCOL_VERSION, gatewayId: "fake", nonce: "again" }),
      welcome: () => ({ type: "welcome", nodeId: gateway.nodeId, heartbeatMs: 1_000, leaseMs: 60_000 }),
    };
    const run = fc.array(fc.record({ kind: fc.constantFrom(...Object.keys(templates)), plan: bodyPlan }), {
      minLength: 1,
      maxLength: 3,
    });
    await fc.assert(
      fc.asyncProperty(run, async (frames) => {
        for (const { kind, plan } of frames) gateway.send(plan((templates[kind] as () => Json)()));
        // a frame the provider answers in order tells this run's frames were read
        await runsALease();
        expect(net.providers[0]?.child.exitCode).toBeNull();
      }),
      fuzzRuns(100),
    );
    const invalid = gateway.received.filter((text) => {
      try {
        return !ProviderMessageSchema.safeParse(JSON.parse(text)).success;
      } catch {
        return true;
      }
    });
    expect(invalid).toEqual([]);
    // audits were answered with verdicts, and refused leases with failures
    const types = new Set(gateway.received.map((t) => (JSON.parse(t) as { type: string }).type));
    expect(types).toContain("verdict");
    expect(types).toContain("failure");
  }, 900_000);
});
