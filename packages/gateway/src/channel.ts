// The provider end of `GET /v1/provider/connect`: challenge, signed hello, then leases,
// heartbeats, chunks and results. Every frame is validated; a bad frame is answered with an
// error message and otherwise ignored, so a buggy provider cannot disturb the gateway. After the
// hello each frame is paid for from a budget (frame-budget.ts); a connection that overspends is closed.
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { wasmMemoryOf } from "@tessera/core";
import {
  type CapacityProofMessage,
  type GatewayMessage,
  heartbeatLimit,
  type Identity,
  PROTOCOL_VERSION,
  type ProviderMessage,
  ProviderMessageSchema,
  type VerdictMessage,
  verifyAuthSignature,
} from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { GatewayConfig } from "./config.js";
import type { Engine } from "./engine/engine.js";
import type { ProviderSession } from "./engine/sessions.js";
import { FrameBudget } from "./frame-budget.js";

export const CLOSE_AUTH = 4001;
export const CLOSE_VERSION = 4002;
/** sent more, or larger or more invalid frames, than its budget allows (FrameBudget) */
export const CLOSE_OVER_BUDGET = 4004;
/** WebSocket's "try again later" */
export const CLOSE_BUSY = 1013;

/**
 * Until its hello is through, a connection is anyone's: the most bytes it may send (a hello that
 * offers the most models allowed is under 100 KiB) and how many such connections may wait at
 * once. Without them a dozen sockets sending 64 MiB frames took the gateway past a gigabyte.
 */
export const PRE_HELLO_BYTES = 256 * 1024;
export const MAX_PENDING_HELLOS = 128;

/** Connections of one gateway still waiting for their hello. */
export interface HelloGate {
  pending: number;
}

export function handleProviderSocket(
  socket: WebSocket,
  raw: Socket,
  deps: {
    gate: HelloGate;
    engine: Engine;
    store: Store;
    identity: Identity;
    config: GatewayConfig;
    log: Logger;
    /** verdicts and capacity proofs (verification/) */
    onVerification?: (session: ProviderSession, msg: VerdictMessage | CapacityProofMessage) => Promise<void>;
  },
): void {
  const { engine, identity, config, log, gate } = deps;
  if (gate.pending >= MAX_PENDING_HELLOS) {
    socket.close(CLOSE_BUSY, "too many connections waiting to authenticate; try again later");
    return;
  }
  gate.pending++;
  let waiting = true;
  let received = 0;
  const meter = (chunk: Buffer) => {
    received += chunk.length;
    if (received > PRE_HELLO_BYTES) raw.destroy(); // no frame of it is parsed
  };
  const admitted = () => {
    if (!waiting) return;
    waiting = false;
    gate.pending--;
    raw.off("data", meter);
  };
  raw.on("data", meter);
  const nonce = randomBytes(32).toString("base64url");
  /** once the hello verifies, every frame is paid for; `maxRunning` is this node's heartbeatLimit */
  let paid: { budget: FrameBudget; nodeId: string; maxRunning: number } | undefined;
  /** over budget: the connection is closing and nothing more it sends is handled */
  let cut = false;
  const send = (msg: GatewayMessage) => {
    if (socket.readyState !== socket.OPEN) return;
    const work = workKey(msg);
    if (paid && work) paid.budget.sent(work);
    if (paid && msg.type === "audit") engine.auditSent(paid.nodeId, msg.auditId, wasmMemoryOf(msg.spec));
    socket.send(JSON.stringify(msg));
  };
  let session: ProviderSession | undefined;
  let pending: Promise<unknown> = Promise.resolve();

  send({ type: "challenge", protocolVersion: PROTOCOL_VERSION, gatewayId: identity.id, nonce });
  const helloTimer = setTimeout(() => socket.close(4000, "no hello in time"), 10_000);

  const pay = (cost: number): boolean => {
    if (!paid || paid.budget.spend(cost)) return true;
    cut = true;
    log.warn({ providerId: paid.nodeId }, "provider went over its frame budget; closing its connection");
    socket.close(CLOSE_OVER_BUDGET, "over the frame budget: too many, too large or invalid frames");
    socket.pause(); // what it has sent since is not read; the close frame still goes out
    setTimeout(() => socket.terminate(), 1_000).unref();
    if (session) engine.disconnect(session); // leased nothing more while the close completes
    return false;
  };
  const refuse = (bytes: number, message: string) => {
    if (pay(paid?.budget.invalidCost(bytes) ?? 0)) send({ type: "error", code: "bad_frame", message });
  };

  socket.on("message", (data) => {
    if (cut) return;
    const bytes = frameBytes(data);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return refuse(bytes, "frames must be JSON");
    }
    const r = ProviderMessageSchema.safeParse(parsed);
    if (!r.success) return refuse(bytes, r.error.issues[0]?.message ?? "invalid message");
    const msg = r.data;
    const listed = msg.type === "heartbeat" ? msg.running.length : 0;
    if (paid && listed > paid.maxRunning)
      return refuse(bytes, `a heartbeat of this node lists at most ${paid.maxRunning} jobs`);
    const entries = listed + (msg.type === "heartbeat" ? (msg.audits?.length ?? 0) : 0);
    if (!pay(paid?.budget.cost(bytes, entries) ?? 0)) return;
    // Until the hello is through, frames wait their turn; afterwards each is handled as it
    // arrives (state changes happen synchronously on arrival, only the commit is awaited), so
    // results from one provider are committed together rather than one after another.
    if (session) void handle(msg);
    else pending = pending.then(() => handle(msg));
  });

  async function handle(msg: ProviderMessage): Promise<void> {
    if (cut) return;
    try {
      if (msg.type === "hello") {
        if (session) return;
        clearTimeout(helloTimer);
        if (msg.protocolVersion !== PROTOCOL_VERSION) {
          send({ type: "error", code: "protocol_version", message: `gateway speaks protocol ${PROTOCOL_VERSION}` });
          socket.close(CLOSE_VERSION, "protocol version mismatch");
          return;
        }
        if (!verifyAuthSignature({ gatewayId: identity.id, nonce, nodeId: msg.nodeId }, msg.signature)) {
          send({ type: "error", code: "auth_failed", message: "challenge signature does not verify" });
          socket.close(CLOSE_AUTH, "authentication failed");
          return;
        }
        admitted();
        const maxRunning = heartbeatLimit(msg.capabilities);
        // leases held from before a reconnect count until its heartbeats name them
        const budget = new FrameBudget(maxRunning, engine.runningOn(msg.nodeId));
        paid = { budget, nodeId: msg.nodeId, maxRunning };
        const known = await deps.store.getProvider(msg.nodeId);
        // closed while the store answered (or cut off): a session now would be online with no socket
        if (cut || socket.readyState !== socket.OPEN) return;
        session = {
          id: msg.nodeId,
          capabilities: msg.capabilities,
          connectedAt: Date.now(),
          draining: false,
          online: true,
          completed: known?.completed ?? 0,
          failed: known?.failed ?? 0,
          msPerUnit: null,
          ...(msg.holding ? { awaitingHeartbeat: true } : {}),
          send,
          close: (code, reason) => socket.close(code, reason),
        };
        const chain = engine.settlement.welcomeChain?.();
        send({
          type: "welcome",
          nodeId: msg.nodeId,
          heartbeatMs: config.heartbeatMs,
          leaseMs: config.leaseMs,
          ...(chain ? { chain } : {}),
        });
        engine.connect(session);
        log.info(
          { providerId: msg.nodeId, region: msg.capabilities.region, ...(msg.holding ? { holding: msg.holding } : {}) },
          "provider connected",
        );
        return;
      }
      if (!session) {
        send({ type: "error", code: "not_authenticated", message: "send hello first" });
        return;
      }
      engine.heard(session);
      switch (msg.type) {
        case "heartbeat": {
          engine.heartbeat(session, msg.running, msg.audits);
          const id = session.id;
          const held = msg.running.filter((r) => {
            const job = engine.activeJob(r.jobId);
            return job?.providerId === id && job.attempt === r.attempt;
          });
          paid?.budget.confirm(
            held.map((r) => leaseKey(r.jobId, r.attempt)),
            3 * config.heartbeatMs,
          );
          break;
        }
        case "chunk":
          engine.chunk(session, msg);
          break;
        case "result": {
          // every result gets an ack, even when handling it failed: the provider holds it until then
          const ack = await engine.result(session, msg).catch((err) => {
            log.error({ err, jobId: msg.jobId, attempt: msg.attempt }, "result handling failed");
            return { accepted: false, reason: "gateway error while settling" };
          });
          send({ type: "ack", jobId: msg.jobId, attempt: msg.attempt, ...ack });
          break;
        }
        case "failure":
          await engine.failure(session, msg);
          break;
        case "drain":
          engine.drain(session);
          break;
        case "pause":
          engine.pause(session, msg.paused);
          break;
        case "release":
          await engine.release(session, msg);
          break;
        case "verdict":
        case "capacity_proof":
          await deps.onVerification?.(session, msg);
          break;
      }
    } catch (err) {
      log.error({ err, providerId: session?.id }, "provider message failed");
    }
  }

  socket.on("close", () => {
    admitted();
    clearTimeout(helloTimer);
    if (session) {
      engine.disconnect(session);
      log.info({ providerId: session.id }, "provider disconnected");
    }
  });
  socket.on("error", (err) => log.warn({ err }, "provider socket error"));
}

const leaseKey = (jobId: string, attempt: number) => `${jobId}#${attempt}`;

/** Work the gateway hands a node, whose reply the node's budget pays for in advance. */
function workKey(msg: GatewayMessage): string | undefined {
  if (msg.type === "lease") return leaseKey(msg.jobId, msg.attempt);
  if (msg.type === "audit") return `audit:${msg.auditId}`;
  if (msg.type === "capacity_challenge") return `capacity:${msg.challengeId}`;
  return undefined;
}

function frameBytes(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}
