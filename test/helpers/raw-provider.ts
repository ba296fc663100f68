// A provider channel client with no daemon behind it: it answers the challenge with a signed hello
// (and capacity challenges honestly), then sends whatever the test tells it, so a test can play a
// hostile or broken node against a real gateway.
import { matmul, randomMatrix } from "@tessera/core";
import {
  type Capabilities,
  canonicalHash,
  generateIdentity,
  type Identity,
  PROTOCOL_VERSION,
  signAuth,
  signResult,
} from "@tessera/protocol";
import WebSocket from "ws";

export interface RawProvider {
  id: string;
  ws: WebSocket;
  /** the gateway's close code and reason, once it closes */
  closed: Promise<{ code: number; reason: string }>;
  /** frames from the gateway not yet taken by next() */
  frames: Record<string, unknown>[];
  send(frame: unknown): void;
  next(pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** A WASM `result` frame for a lease, signed by `identity`: output `data` (base64), billed 1 SU. */
export function signedWasmResult(identity: Identity, jobId: string, attempt: number, data: string) {
  const output = { data };
  const outputHash = canonicalHash(output);
  const units = { inputTokens: 0, outputTokens: 0, standardUnits: 1 };
  const signature = signResult(identity, { jobId, attempt, outputHash, units });
  return { type: "result" as const, jobId, attempt, output, outputHash, units, signature, elapsedMs: 5 };
}

/** Dials the gateway on `port`, signs its challenge and resolves once welcomed. */
export async function rawProvider(
  port: number,
  capabilities: Capabilities,
  identity: Identity = generateIdentity(),
): Promise<RawProvider> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/provider/connect`, { maxPayload: 128 << 20 });
  ws.on("error", () => {}); // a cut connection also closes
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on("close", (code, reason) => r({ code, reason: reason.toString() })),
  );
  const frames: Record<string, unknown>[] = [];
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] =
    [];
  const p: RawProvider = {
    id: identity.id,
    ws,
    closed,
    frames,
    send: (frame) => {
      if (ws.readyState === ws.OPEN) ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
    },
    next: (pred, timeoutMs = 30_000) => {
      const i = frames.findIndex(pred);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no such frame from the gateway in time")), timeoutMs);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString()) as Record<string, unknown>;
    if (m.type === "capacity_challenge") {
      const { n, seedA, seedB, challengeId } = m as { n: number; seedA: number; seedB: number; challengeId: string };
      const product = matmul(randomMatrix(n, seedA), randomMatrix(n, seedB), n);
      const bytes = Buffer.alloc(product.length * 8);
      for (const [i, v] of product.entries()) bytes.writeDoubleLE(v, i * 8);
      p.send({ type: "capacity_proof", challengeId, product: bytes.toString("base64") });
      return;
    }
    const i = waiters.findIndex((w) => w.pred(m));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
    else frames.push(m);
  });
  const challenge = await p.next((m) => m.type === "challenge");
  p.send({
    type: "hello",
    protocolVersion: PROTOCOL_VERSION,
    nodeId: identity.id,
    signature: signAuth(identity, { gatewayId: String(challenge.gatewayId), nonce: String(challenge.nonce) }),
    capabilities,
  });
  const first = await Promise.race([p.next((m) => m.type === "welcome" || m.type === "error"), closed]);
  if (!("type" in first) || first.type !== "welcome") throw new Error(`not welcomed: ${JSON.stringify(first)}`);
  return p;
}
