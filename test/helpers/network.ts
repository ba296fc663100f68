// Starts real gateway and provider processes on loopback through the `tessera` CLI, the way
// an operator would, and tears them down after the test. Nothing here is simulated.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadOrCreateKeyFile } from "@tessera/protocol";
import { ensureTinyModel } from "@tessera/runtimes";
import { TesseraClient } from "@tessera/sdk";
import { TESSERA_BIN as BIN, nodeFlagsFor } from "../../packages/cli/src/lib/node-flags.js";

const ADVERSARY = resolve(import.meta.dirname, "adversary.ts");
export const MODELS_DIR = join(tmpdir(), "tessera-test-models");

export function tinyModel(): Promise<string> {
  return ensureTinyModel(MODELS_DIR);
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no port"))));
    });
  });
}

export interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnTessera(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [...nodeFlagsFor(args), BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env },
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    name,
    child,
    output: () => out,
    exited,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ProviderOptions {
  region?: string;
  price?: number;
  concurrency?: number;
  models?: string[];
  runtimes?: string;
  /** more CLI flags, e.g. ["--verify", "--operator", "op-b", "--threads", "2"] */
  extra?: string[];
}

export class TestNetwork {
  readonly dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
  readonly adminKey = randomBytes(24).toString("base64url");
  gateway?: Proc;
  providers: Proc[] = [];
  port = 0;
  admin!: TesseraClient;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startGateway(extra: string[] = []): Promise<void> {
    if (!this.port) this.port = await freePort();
    const keyFile = join(this.dir, "admin.key");
    writeFileSync(keyFile, this.adminKey);
    this.gateway = spawnTessera("gateway", [
      "gateway",
      "--port",
      String(this.port),
      "--db",
      join(this.dir, "gateway.db"),
      "--admin-key-file",
      keyFile,
      "--log-level",
      "warn",
      ...extra,
    ]);
    this.admin = new TesseraClient({ baseUrl: this.url, adminKey: this.adminKey });
    const gw = this.gateway;
    await until("gateway health", async () => {
      if (gw.child.exitCode !== null) throw new Error(`gateway exited: ${gw.output()}`);
      return (await this.admin.health()).ok;
    });
  }

  async startProvider(o: ProviderOptions = {}): Promise<Proc> {
    const i = this.providers.length + 1;
    const models = o.models ?? [await tinyModel()];
    const dataDir = join(this.dir, `provider-${i}`);
    mkdirSync(dataDir, { recursive: true });
    const args = [
      "provider",
      "--gateway",
      `ws://127.0.0.1:${this.port}`,
      "--key",
      join(dataDir, "node.key"),
      "--region",
      o.region ?? `region-${i}`,
      "--price",
      String(o.price ?? 50),
      "--concurrency",
      String(o.concurrency ?? 2),
      "--data-dir",
      dataDir,
    ];
    if (models.length > 0) args.push("--models", ...models);
    args.push(...(o.extra ?? []));
    const p = spawnTessera(`provider-${i}`, args);
    this.providers.push(p);
    return p;
  }

  async waitForProviders(n: number): Promise<void> {
    await until(`${n} providers online`, async () => (await this.admin.health()).providers >= n, 90_000);
  }

  async consumer(deposit = 1_000n * 1_000_000_000n): Promise<{ id: string; apiKey: string; client: TesseraClient }> {
    const c = await this.admin.createConsumer(`test-${randomBytes(3).toString("hex")}`, deposit);
    return {
      id: c.id,
      apiKey: c.apiKey,
      client: new TesseraClient({ baseUrl: this.url, apiKey: c.apiKey, adminKey: this.adminKey }),
    };
  }

  /** A node key made ahead of its process (e.g. so a colluding verifier can be told its partner's id). */
  nodeKey(name: string): { keyFile: string; id: string } {
    mkdirSync(join(this.dir, "keys"), { recursive: true });
    const keyFile = join(this.dir, "keys", `${name}.key`);
    return { keyFile, id: loadOrCreateKeyFile(keyFile).id };
  }

  /** A provider process running a cheating strategy (test/helpers/adversary.ts); returns its node id. */
  async startAdversary(
    strategy: string,
    o: {
      operator?: string;
      verify?: boolean;
      region?: string;
      /** a key file made with nodeKey(); default a new one in the node's data dir */
      keyFile?: string;
      /** seeds the cheat draws, so which jobs are cheated on is the same every run */
      seed?: number;
      /** node ids a colluding-verifier passes whatever they send */
      partners?: string[];
      concurrency?: number;
      /** on-chain settlement: eth key file it advertises and signs evidence with */
      ethKeyFile?: string;
      /** signs its evidence with another key than the one it advertises */
      wrongEthSigner?: boolean;
    } = {},
  ): Promise<string> {
    const i = this.providers.length + 1;
    const dataDir = join(this.dir, `adversary-${i}`);
    mkdirSync(dataDir, { recursive: true });
    const keyFile = o.keyFile ?? join(dataDir, "node.key");
    const identity = loadOrCreateKeyFile(keyFile);
    const config = {
      gateway: `ws://127.0.0.1:${this.port}`,
      keyFile,
      region: o.region ?? `adv-${i}`,
      price: 50,
      concurrency: o.concurrency ?? 2,
      dataDir,
      models: [await tinyModel()],
      logLevel: "warn",
      verify: o.verify === true,
      ...(o.operator ? { operator: o.operator } : {}),
      adversary: {
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.partners ? { partners: o.partners } : {}),
        ...(o.ethKeyFile ? { ethKeyFile: o.ethKeyFile } : {}),
        ...(o.wrongEthSigner ? { wrongEthSigner: true } : {}),
      },
    };
    const child = spawn(process.execPath, ["--import", "tsx", ADVERSARY, strategy, JSON.stringify(config)], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: resolve(import.meta.dirname, "../.."),
    });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    this.providers.push({
      name: `adversary-${strategy}`,
      child,
      output: () => out,
      exited,
      async kill(signal = "SIGTERM") {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    });
    return identity.id;
  }

  async stop(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.kill("SIGKILL")));
    await this.gateway?.kill("SIGTERM");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
