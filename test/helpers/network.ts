// Starts real gateway and provider processes on loopback through the `tessera` CLI, the way
// an operator would, and tears them down after the test. Nothing here is simulated.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadOrCreateKeyFile } from "@tessera/protocol";
import { ensureTinyModel } from "@tessera/runtimes";
import { TesseraClient } from "@tessera/sdk";
import { freePort, type Proc, spawnScript, spawnTessera, until } from "./processes.js";

export { freePort, type Proc, spawnTessera, until } from "./processes.js";

const ADVERSARY = resolve(import.meta.dirname, "adversary.ts");
export const MODELS_DIR = join(tmpdir(), "tessera-test-models");

export function tinyModel(): Promise<string> {
  return ensureTinyModel(MODELS_DIR);
}

export interface GatewayOptions {
  /** extra `tessera gateway` flags, e.g. ["--rate-limit", "0"] */
  args?: string[];
  /** node flags, e.g. ["--cpu-prof", "--cpu-prof-dir", dir] */
  nodeArgs?: string[];
  /** environment added to the gateway's */
  env?: NodeJS.ProcessEnv;
}

export interface ProviderOptions {
  region?: string;
  price?: number;
  concurrency?: number;
  /** default: the tiny model, unless `runtimes` leaves llm out */
  models?: string[];
  runtimes?: ("llm" | "wasm")[];
  /** `--prefetch`: batch leases held beyond the concurrency */
  prefetch?: number;
  logLevel?: string;
  nodeArgs?: string[];
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

  /** `extra` flags, or options; a restarted gateway keeps its port and database. */
  async startGateway(o: string[] | GatewayOptions = []): Promise<void> {
    const opts = Array.isArray(o) ? { args: o } : o;
    if (!this.port) this.port = await freePort();
    const keyFile = join(this.dir, "admin.key");
    writeFileSync(keyFile, this.adminKey);
    const db = join(this.dir, "gateway.db");
    const args = [
      "gateway",
      "--port",
      String(this.port),
      "--db",
      db,
      "--admin-key-file",
      keyFile,
      "--log-level",
      "warn",
    ];
    const gw = this.spawnGateway([...args, ...(opts.args ?? [])], opts);
    this.gateway = gw;
    this.admin = new TesseraClient({ baseUrl: this.url, adminKey: this.adminKey });
    await until("the gateway to answer /healthz", async () => {
      if (gw.child.exitCode !== null) throw new Error(`gateway exited: ${gw.output()}`);
      return (await this.admin.health()).ok;
    });
  }

  protected spawnGateway(args: string[], o: GatewayOptions): Proc {
    return spawnTessera("gateway", args, { nodeArgs: o.nodeArgs, env: o.env });
  }

  async startProvider(o: ProviderOptions = {}): Promise<Proc> {
    const i = this.providers.length + 1;
    const llm = o.runtimes === undefined || o.runtimes.includes("llm");
    const models = o.models ?? (llm ? [await tinyModel()] : []);
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
    if (o.runtimes?.length) args.push("--runtimes", ...o.runtimes);
    if (o.prefetch) args.push("--prefetch", String(o.prefetch));
    if (o.logLevel) args.push("--log-level", o.logLevel);
    args.push(...(o.extra ?? []));
    const p = spawnTessera(`provider-${i}`, args, { nodeArgs: o.nodeArgs });
    this.providers.push(p);
    return p;
  }

  async waitForProviders(n: number): Promise<void> {
    await until(
      `${n} provider(s) online`,
      async () => {
        // a crash says why at once instead of after the timeout (a drained or killed node exits 0 or by signal)
        for (const p of this.providers)
          if (p.child.exitCode) throw new Error(`${p.name} exited (${p.child.exitCode}): ${p.output()}`);
        return (await this.admin.health()).providers >= n;
      },
      120_000,
    );
  }

  async consumer(deposit = 1_000n * 1_000_000_000n): Promise<{ id: string; apiKey: string; client: TesseraClient }> {
    const c = await this.admin.createConsumer(`test-${randomBytes(3).toString("hex")}`, deposit);
    return {
      id: c.id,
      apiKey: c.apiKey,
      client: new TesseraClient({ baseUrl: this.url, apiKey: c.apiKey, adminKey: this.adminKey }),
    };
  }

  /** The provider process running as node `nodeId` (found by the id its log names), if any. */
  processOf(nodeId: string): Proc | undefined {
    return this.providers.find((p) => p.output().includes(nodeId.slice(0, 16)));
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
    this.providers.push(
      spawnScript(`adversary-${strategy}`, ADVERSARY, [strategy, JSON.stringify(config)], { ipc: false }),
    );
    return identity.id;
  }

  /** A JSON POST with the admin key, to admin routes the SDK does not wrap (stake, unbond). */
  adminPost(path: string, body: Record<string, string>): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /**
   * Kills the providers and stops the gateway; `graceful` lets providers drain first (a
   * --cpu-prof process writes its profile on a clean exit).
   */
  async stop(o: { graceful?: boolean; keepDir?: boolean } = {}): Promise<void> {
    await Promise.all(this.providers.map((p) => (o.graceful ? p.stop(10_000) : p.kill("SIGKILL"))));
    await this.gateway?.stop(15_000);
    if (!o.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
