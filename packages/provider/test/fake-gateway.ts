// A test peer that speaks the gateway side of the provider channel (challenge, welcome,
// leases, acks) and serves /v1/blobs/:id, so the daemon is tested without the real gateway.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type GatewayMessage,
  generateIdentity,
  type HelloMessage,
  type Identity,
  PROTOCOL_VERSION,
  type ProviderMessage,
  ProviderMessageSchema,
  sha256Hex,
  verifyAuthSignature,
} from "@tessera/protocol";
import { WebSocket, WebSocketServer } from "ws";

export interface FakeGatewayOptions {
  protocolVersion?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  /** answer each result with ack accepted:true (default true) */
  autoAck?: boolean;
}

export class FakeConnection {
  readonly messages: ProviderMessage[] = [];
  hello: HelloMessage | undefined;
  helloVerified = false;
  readonly nonce = randomBytes(16).toString("base64url");
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<{ pred: (m: ProviderMessage) => boolean; resolve: (m: ProviderMessage) => void }> = [];

  constructor(
    readonly ws: WebSocket,
    private readonly gateway: FakeGateway,
  ) {
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on("message", (data) => this.onMessage(data.toString()));
    this.send({
      type: "challenge",
      protocolVersion: gateway.options.protocolVersion ?? PROTOCOL_VERSION,
      gatewayId: gateway.identity.id,
      nonce: this.nonce,
    });
  }

  send(msg: GatewayMessage | Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The first message (already received or yet to come) that matches. */
  waitFor<T extends ProviderMessage["type"]>(
    type: T,
    pred: (m: Extract<ProviderMessage, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ProviderMessage, { type: T }>> {
    const match = (m: ProviderMessage) => m.type === type && pred(m as Extract<ProviderMessage, { type: T }>);
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen as Extract<ProviderMessage, { type: T }>);
    return new Promise((resolve) =>
      this.waiters.push({ pred: match, resolve: resolve as (m: ProviderMessage) => void }),
    );
  }

  of<T extends ProviderMessage["type"]>(type: T): Extract<ProviderMessage, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<ProviderMessage, { type: T }>[];
  }

  private onMessage(text: string): void {
    const parsed = ProviderMessageSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`provider sent an invalid message: ${text.slice(0, 200)}`);
    const msg = parsed.data;
    this.messages.push(msg);
    if (msg.type === "hello") {
      this.hello = msg;
      this.helloVerified = verifyAuthSignature(
        { gatewayId: this.gateway.identity.id, nonce: this.nonce, nodeId: msg.nodeId },
        msg.signature,
      );
      if (!this.helloVerified) {
        this.send({ type: "error", code: "auth_failed", message: "bad signature" });
        this.ws.close(4001, "authentication failed");
      } else {
        this.send({
          type: "welcome",
          nodeId: msg.nodeId,
          heartbeatMs: this.gateway.options.heartbeatMs ?? 20,
          leaseMs: this.gateway.options.leaseMs ?? 10_000,
        });
      }
    }
    if (msg.type === "result" && (this.gateway.options.autoAck ?? true)) {
      this.send({ type: "ack", jobId: msg.jobId, attempt: msg.attempt, accepted: true });
    }
    for (const w of [...this.waiters]) {
      if (w.pred(msg)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  }
}

export class FakeGateway {
  readonly identity: Identity = generateIdentity();
  readonly connections: FakeConnection[] = [];
  readonly blobs = new Map<string, Uint8Array>();
  /** ids requested over HTTP, in order */
  readonly blobRequests: string[] = [];
  /** while true, upgrade requests are refused (the socket is destroyed), as if the gateway were down */
  paused = false;
  /** upgrade requests refused while paused */
  refused = 0;
  private connectionWaiters: Array<() => void> = [];
  private constructor(
    readonly options: FakeGatewayOptions,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
  ) {}

  static async start(options: FakeGatewayOptions & { paused?: boolean } = {}): Promise<FakeGateway> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const gateway = new FakeGateway(options, server, wss);
    gateway.paused = options.paused ?? false;
    server.on("request", (req, res) => {
      const m = /^\/v1\/blobs\/([0-9a-f]{64})$/.exec(req.url ?? "");
      const bytes = m ? gateway.blobs.get(m[1] as string) : undefined;
      if (m) gateway.blobRequests.push(m[1] as string);
      if (!bytes) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.byteLength });
      res.end(Buffer.from(bytes));
    });
    server.on("upgrade", (req, socket, head) => {
      if (req.url !== "/v1/provider/connect" || gateway.paused) {
        if (gateway.paused) gateway.refused++;
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        gateway.connections.push(new FakeConnection(ws, gateway));
        for (const wake of gateway.connectionWaiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return gateway;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stores bytes under their content id and returns the id. */
  putBlob(bytes: Uint8Array): string {
    const id = sha256Hex(bytes);
    this.blobs.set(id, bytes);
    return id;
  }

  /** The n-th connection (0-based), waiting for it if it has not come yet. */
  async connection(n: number): Promise<FakeConnection> {
    while (this.connections.length <= n) {
      await new Promise<void>((resolve) => this.connectionWaiters.push(resolve));
    }
    return this.connections[n] as FakeConnection;
  }

  /** The n-th connection once its provider has been welcomed. */
  async session(n: number): Promise<FakeConnection> {
    const conn = await this.connection(n);
    await conn.waitFor("hello");
    return conn;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
