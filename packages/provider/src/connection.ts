// The provider's end of `GET /v1/provider/connect`: dial out, answer the challenge with a
// signed hello, heartbeat while welcomed, and redial with backoff whenever the socket drops,
// except when the gateway refuses this node for good (bad key, other protocol version).
import { isOwnStall } from "@tessera/core";
import {
  type AuditCancelMessage,
  type AuditMessage,
  type Capabilities,
  type CapacityChallengeMessage,
  type GatewayMessage,
  GatewayMessageSchema,
  type Identity,
  type LeaseMessage,
  LeaseMsg,
  PROTOCOL_VERSION,
  type ProviderMessage,
  signAuth,
} from "@tessera/protocol";
import type { Logger } from "pino";
import WebSocket from "ws";
import {
  type BackoffOptions,
  backoffDelay,
  HOLDING_REDIAL_WINDOW_MS,
  nextAttempt,
  STABLE_SESSION_MS,
} from "./backoff.js";
import {
  type AckMessage,
  type CancelMessage,
  type FailureMessage,
  GATEWAY_MAX_FRAME_BYTES,
  type HeartbeatMessage,
  type WelcomeMessage,
} from "./wire.js";

/** Close codes the gateway uses for refusals that a retry cannot fix. */
export const CLOSE_AUTH_FAILED = 4001;
export const CLOSE_VERSION_MISMATCH = 4002;
/** The gateway's close of a session when the same node id authenticates on another socket. */
export const CLOSE_REPLACED = 4003;

/**
 * Why the provider stopped for good. key_in_use: a session replaced by another process with the
 * same key; restarting would only take the identity back from the other process (which would
 * then be replaced in turn).
 */
export type FatalReason = "auth_failed" | "version_mismatch" | "key_in_use";

export type SessionMessage =
  | LeaseMessage
  | CancelMessage
  | AckMessage
  | AuditMessage
  | AuditCancelMessage
  | CapacityChallengeMessage;

export interface ConnectionOptions {
  /** ws(s)://…/v1/provider/connect */
  url: string;
  identity: Identity;
  capabilities: Capabilities;
  log: Logger;
  backoff: BackoffOptions;
  /** a session up this long resets the backoff; default STABLE_SESSION_MS (30 s) */
  stableAfterMs?: number;
  random?: () => number;
  /** the monotonic clock pong waits, stalls and outages are measured on; default performance.now */
  monotonic?: () => number;
  /** the gateway must complete challenge → welcome within this; default 15 s */
  handshakeTimeoutMs?: number;
  /** largest frame accepted; default 64 MiB (leases carry inline inputs) */
  maxPayload?: number;
  /** after a welcome, before anything else is sent on the new session */
  onWelcome(welcome: WelcomeMessage): void;
  onMessage(msg: SessionMessage): void;
  heartbeat(): HeartbeatMessage;
  /** leases held now, told in the hello (HelloMsg.holding) */
  holding(): number;
  /** whether the gateway waits on this node for something (a running lease, an unacked result) */
  holdsWork(): boolean;
  /** the gateway refused this node for good; the connection has stopped redialling */
  onFatal(reason: FatalReason, message: string): void;
  /** the node's key file, named when another process turns out to hold the same key */
  keyFile?: string;
}

type Phase = "challenge" | "welcome" | "ready";

export class GatewayConnection {
  private ws: WebSocket | undefined;
  private welcomed = false;
  private stopped = false;
  private attempt = 0;
  /** sockets in a row that opened but closed before the gateway said a word (a wrong --gateway path, say) */
  private silentCloses = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** when the current outage began: the first drop of a welcomed session after a stable one */
  private droppedAt: number | undefined;
  private readonly closeWaiters: Array<() => void> = [];
  /** authenticated sessions so far */
  sessions = 0;

  private readonly clock: () => number;

  constructor(private readonly options: ConnectionOptions) {
    this.clock = options.monotonic ?? (() => performance.now());
  }

  get connected(): boolean {
    return this.welcomed && this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.dial();
  }

  /** Sends on the authenticated session; false (nothing sent) when there is none. */
  send(msg: ProviderMessage): boolean {
    const ws = this.ws;
    if (!this.welcomed || !ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Stops redialling and closes the socket; resolves once it is closed. */
  close(code = 1000, reason = "provider stopping"): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      if (ws.readyState === WebSocket.CONNECTING) return ws.terminate();
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      // A gateway that never answers the closing handshake does not hold us up.
      setTimeout(() => ws.terminate(), 2_000).unref();
    });
  }

  private dial(): void {
    if (this.stopped) return;
    const { log, identity } = this.options;
    const handshakeTimeoutMs = this.options.handshakeTimeoutMs ?? 15_000;
    const ws = new WebSocket(this.options.url, {
      maxPayload: this.options.maxPayload ?? GATEWAY_MAX_FRAME_BYTES,
      handshakeTimeout: handshakeTimeoutMs,
    });
    this.ws = ws;
    let phase: Phase = "challenge";
    let opened = false;
    let challenged = false;
    // set when this provider gives up on the socket itself: whatever close code follows is not the gateway's word
    let abandoned = false;
    const abandon = () => {
      abandoned = true;
      ws.terminate();
    };
    let heartbeatTimer: NodeJS.Timeout | undefined;
    // the monotonic clock: a wall clock stepped forward by NTP must not look like a silent gateway
    let lastPongAt = this.clock();
    let welcomedAt: number | undefined;
    const handshakeTimer = setTimeout(() => {
      log.warn({ phase }, "gateway did not complete the handshake in time");
      abandon();
    }, handshakeTimeoutMs);

    ws.on("open", () => {
      opened = true;
    });
    ws.on("pong", () => {
      lastPongAt = this.clock();
    });
    // an HTTP answer to the upgrade (the gateway's 404 for a wrong path) is said with the hint below
    let refusedWith: string | undefined;
    ws.on("error", (err) => {
      refusedWith = /^Unexpected server response: (\d+)/.exec(err.message)?.[1];
      if (refusedWith === undefined) log.warn({ err: err.message }, "gateway connection error");
    });

    ws.on("message", (data, isBinary) => {
      const msg = isBinary ? undefined : parseGatewayMessage(data.toString(), log, (f) => this.send(f));
      if (!msg) return;
      switch (msg.type) {
        case "challenge": {
          if (phase !== "challenge") return void log.warn("unexpected challenge ignored");
          challenged = true;
          if (msg.protocolVersion !== PROTOCOL_VERSION) {
            const message =
              `gateway speaks protocol version ${msg.protocolVersion} but this provider speaks ` +
              `${PROTOCOL_VERSION}; upgrade the ${msg.protocolVersion > PROTOCOL_VERSION ? "provider" : "gateway"}`;
            log.error({ gatewayVersion: msg.protocolVersion, providerVersion: PROTOCOL_VERSION }, message);
            this.fatal("version_mismatch", message);
            ws.close(CLOSE_VERSION_MISMATCH, "protocol version mismatch");
            return;
          }
          phase = "welcome";
          const holding = this.options.holding();
          ws.send(
            JSON.stringify({
              type: "hello",
              protocolVersion: PROTOCOL_VERSION,
              nodeId: identity.id,
              signature: signAuth(identity, { gatewayId: msg.gatewayId, nonce: msg.nonce }),
              capabilities: this.options.capabilities,
              ...(holding > 0 ? { holding } : {}),
            } satisfies ProviderMessage),
          );
          return;
        }
        case "welcome": {
          if (phase !== "welcome") return void log.warn("unexpected welcome ignored");
          if (msg.nodeId !== identity.id) {
            log.error({ welcomed: msg.nodeId }, "gateway welcomed another node id; reconnecting");
            abandon();
            return;
          }
          phase = "ready";
          clearTimeout(handshakeTimer);
          this.welcomed = true;
          welcomedAt = this.clock();
          this.sessions++;
          log.info({ heartbeatMs: msg.heartbeatMs, leaseMs: msg.leaseMs }, "connected to gateway");
          this.options.onWelcome(msg);
          this.send(this.options.heartbeat());
          // Ping rides along each heartbeat; a gateway gone silent (no TCP close) is dropped
          // after a few missed pongs and redialled.
          const deadAfterMs = Math.max(3 * msg.heartbeatMs, 10_000);
          let lastTickAt = this.clock();
          heartbeatTimer = setInterval(() => {
            const now = this.clock();
            const lateMs = now - lastTickAt - msg.heartbeatMs;
            lastTickAt = now;
            // A tick this late means this process stood still (SIGSTOP, a paused VM, a starved
            // host): timers run before sockets are read, so the gateway's pongs from meanwhile
            // are still unread. The gateway gets a fresh wait instead of the blame.
            if (isOwnStall(lateMs, msg.heartbeatMs)) {
              log.warn({ stalledMs: Math.round(lateMs) }, "provider stalled; giving the gateway a fresh pong wait");
              lastPongAt = now;
            }
            if (now - lastPongAt > deadAfterMs) {
              log.warn("gateway stopped answering pings; reconnecting");
              abandon();
              return;
            }
            ws.ping();
            this.send(this.options.heartbeat());
          }, msg.heartbeatMs);
          return;
        }
        case "error":
          log.warn({ code: msg.code, message: msg.message }, "gateway reported an error");
          return;
        default:
          if (phase !== "ready") return void log.warn({ type: msg.type }, "message before welcome ignored");
          this.options.onMessage(msg);
      }
    });

    ws.on("close", (code, reasonBytes) => {
      clearTimeout(handshakeTimer);
      clearInterval(heartbeatTimer);
      const wasWelcomed = phase === "ready";
      const current = this.ws === ws && !abandoned;
      if (this.ws === ws) {
        this.ws = undefined;
        this.welcomed = false;
      }
      const reason = reasonBytes.toString();
      if (this.stopped) {
        for (const resolve of this.closeWaiters.splice(0)) resolve();
        return;
      }
      if (code === CLOSE_AUTH_FAILED) {
        const message = `gateway refused this node's key: ${reason || "authentication failed"}`;
        log.error({ code }, message);
        return this.fatal("auth_failed", message);
      }
      if (code === CLOSE_VERSION_MISMATCH) {
        const message = `gateway refused this provider's protocol version ${PROTOCOL_VERSION}: ${reason || "version mismatch"}`;
        log.error({ code }, message);
        return this.fatal("version_mismatch", message);
      }
      if (code === CLOSE_REPLACED && wasWelcomed && current) {
        // Another process authenticated with this node's key. Redialling would take the identity
        // back, the other would do the same, and each swap costs the jobs in flight an attempt.
        const keyFile = this.options.keyFile ?? "this node's key file";
        const message =
          `another provider process is connected with the same node key (${keyFile}), so the gateway ` +
          `replaced this connection; stopping and leaving the node to it. Give each provider its own ` +
          `--key (or --data-dir)`;
        log.error({ code, keyFile: this.options.keyFile }, message);
        return this.fatal("key_in_use", message);
      }
      const silent = (opened && !challenged) || refusedWith !== undefined;
      if (wasWelcomed) this.silentCloses = 0;
      else if (silent) this.silentCloses++;
      // Only a session that stayed up resets the backoff: one dropped right after its welcome
      // (say, over a frame the gateway will not take) must not be redialled at full speed.
      const now = this.clock();
      const upMs = welcomedAt === undefined ? undefined : now - welcomedAt;
      this.attempt = nextAttempt(this.attempt, upMs, this.options.stableAfterMs ?? STABLE_SESSION_MS);
      // Sessions that drop soon after their welcome continue the outage they began in, so a node
      // whose result keeps getting its socket closed leaves the 1 s ceiling after 30 s.
      if (wasWelcomed && (this.attempt === 0 || this.droppedAt === undefined)) this.droppedAt = now;
      const holding =
        this.droppedAt !== undefined && now - this.droppedAt < HOLDING_REDIAL_WINDOW_MS && this.options.holdsWork();
      const delayMs = backoffDelay(this.attempt++, this.options.backoff, this.options.random, holding);
      if (silent && isPowerOfTwo(this.silentCloses)) {
        // Something took the upgrade but never sent a challenge: said at warn the first time and then
        // ever more rarely (1st, 2nd, 4th, 8th…), since a wrong URL otherwise retries forever unheard.
        const how = refusedWith === undefined ? "closed" : `refused (HTTP ${refusedWith})`;
        log.warn(
          { code, reason, delayMs, url: this.options.url, closedInARow: this.silentCloses },
          `gateway connection ${how} before the handshake: is --gateway the gateway's ws://host:port? reconnecting`,
        );
      } else {
        log[wasWelcomed ? "warn" : "info"](
          { code, reason, delayMs, upMs, ...(holding ? { holdingWork: true } : {}) },
          "gateway connection closed; reconnecting",
        );
      }
      this.reconnectTimer = setTimeout(() => this.dial(), delayMs);
    });
  }

  private fatal(reason: FatalReason, message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.options.onFatal(reason, message);
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Enough of a lease to answer it when the rest does not parse. */
const LeaseHeader = LeaseMsg.pick({ type: true, jobId: true, attempt: true });

function parseGatewayMessage(
  text: string,
  log: Logger,
  refuse: (failure: FailureMessage) => void,
): GatewayMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    log.warn({ bytes: text.length }, "gateway sent a frame that is not JSON; ignored");
    return undefined;
  }
  const r = GatewayMessageSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    log.warn(
      { type: (json as { type?: unknown } | null)?.type, path: issue?.path.join("."), issue: issue?.message },
      "gateway sent an invalid message; ignored",
    );
    // A lease this node cannot read is answered at once, as the job's fault: left unanswered it
    // would expire and count against this node, and then against every node it went to next.
    const lease = LeaseHeader.safeParse(json);
    if (lease.success)
      refuse({
        type: "failure",
        jobId: lease.data.jobId,
        attempt: lease.data.attempt,
        retryable: false,
        reason:
          `the lease's job is not valid here: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`.slice(
            0,
            2000,
          ),
      });
    return undefined;
  }
  return r.data;
}
