// Real gateway and provider processes on loopback, started through the `tessera` CLI the way
// an operator starts them (the same approach as test/helpers/network.ts, plus what benches
// need: node flags such as --cpu-prof, log levels, runtimes and a graceful stop).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TesseraClient } from "@tessera/sdk";
import { TESSERA_BIN as BIN, nodeFlagsFor } from "../../packages/cli/src/lib/node-flags.js";

export const REPO = resolve(import.meta.dirname, "../..");
const OUTPUT_KEEP = 64 * 1024;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no free port"))));
    });
  });
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
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

export interface Proc {
  name: string;
  child: ChildProcess;
  /** the last 64 KiB of stdout and stderr */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts `node [nodeArgs] script [args]` with output captured for error messages. */
export function spawnNode(
  name: string,
  script: string,
  args: string[],
  opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; ipc?: boolean } = {},
): Proc {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], {
    cwd: REPO,
    stdio: opts.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2 * OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => out.slice(-OUTPUT_KEEP),
    exited,
    async stop(graceMs = 10_000) {
      if (!alive()) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => alive() && child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export function spawnTessera(name: string, args: string[], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  return spawnNode(name, BIN, args, { nodeArgs: [...nodeFlagsFor(args), ...nodeArgs], env });
}

/** A TypeScript helper script run as its own process (through tsx), with an IPC channel. */
export function spawnScript(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): Proc {
  return spawnNode(name, script, args, { nodeArgs: ["--import", "tsx", ...nodeArgs], env, ipc: true });
}

/** The first IPC message a spawned script sends (e.g. its port, or "ready"). */
export function firstMessage<T>(proc: Proc, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${proc.name} sent nothing in time: ${proc.output()}`)), timeoutMs);
    proc.child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    void proc.exited.then((code) => reject(new Error(`${proc.name} exited (${code}): ${proc.output()}`)));
  });
}

export interface GatewayOptions {
  /** extra `tessera gateway` flags, e.g. ["--rate-limit", "0"] */
  args?: string[];
  /** node flags, e.g. ["--cpu-prof", "--cpu-prof-dir", dir] */
  nodeArgs?: string[];
  /** environment added to the gateway's */
  env?: NodeJS.ProcessEnv;
  /**
   * Run startGateway() through bench/lib/traced-gateway.ts (timestamps, commit sizes) with these
   * settings instead of the `tessera gateway` command; `args` is then ignored.
   */
  traced?: Record<string, unknown>;
}

export interface ProviderOptions {
  concurrency?: number;
  /** `--prefetch`: batch leases held beyond the concurrency */
  prefetch?: number;
  models?: string[];
  runtimes?: ("llm" | "wasm")[];
  price?: number;
  nodeArgs?: string[];
  logLevel?: string;
}

export class TesseraNetwork {
  readonly dir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
  readonly adminKey = randomBytes(24).toString("base64url");
  gateway?: Proc;
  providers: Proc[] = [];
  port = 0;
  admin!: TesseraClient;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startGateway(o: GatewayOptions = {}): Promise<void> {
    this.port = await freePort();
    const keyFile = join(this.dir, "admin.key");
    writeFileSync(keyFile, this.adminKey);
    const config = {
      port: this.port,
      host: "127.0.0.1",
      db: join(this.dir, "gateway.db"),
      adminKey: this.adminKey,
      logLevel: "warn",
      ...o.traced,
    };
    const gw = o.traced
      ? spawnScript("gateway", join(REPO, "bench/lib/traced-gateway.ts"), [JSON.stringify(config)], {}, o.nodeArgs)
      : spawnTessera(
          "gateway",
          [
            "gateway",
            "--port",
            String(this.port),
            "--db",
            join(this.dir, "gateway.db"),
            "--admin-key-file",
            keyFile,
            "--log-level",
            "warn",
            ...(o.args ?? []),
          ],
          o.nodeArgs,
          o.env,
        );
    this.gateway = gw;
    this.admin = new TesseraClient({ baseUrl: this.url, adminKey: this.adminKey });
    await until("the gateway to answer /healthz", async () => {
      if (gw.child.exitCode !== null) throw new Error(`gateway exited: ${gw.output()}`);
      return (await this.admin.health()).ok;
    });
  }

  startProvider(o: ProviderOptions = {}): Proc {
    const i = this.providers.length + 1;
    const dataDir = join(this.dir, `provider-${i}`);
    mkdirSync(dataDir, { recursive: true });
    const args = [
      "provider",
      "--gateway",
      `ws://127.0.0.1:${this.port}`,
      "--key",
      join(dataDir, "node.key"),
      "--region",
      `bench-${i}`,
      "--price",
      String(o.price ?? 50),
      "--concurrency",
      String(o.concurrency ?? 1),
      "--data-dir",
      dataDir,
      "--log-level",
      o.logLevel ?? "warn",
    ];
    if (o.prefetch) args.push("--prefetch", String(o.prefetch));
    if (o.models?.length) args.push("--models", ...o.models);
    if (o.runtimes?.length) args.push("--runtimes", ...o.runtimes);
    const p = spawnTessera(`provider-${i}`, args, o.nodeArgs);
    this.providers.push(p);
    return p;
  }

  async waitForProviders(n: number): Promise<void> {
    await until(
      `${n} provider(s) online`,
      async () => {
        for (const p of this.providers)
          if (p.child.exitCode !== null) throw new Error(`${p.name} exited: ${p.output()}`);
        return (await this.admin.health()).providers >= n;
      },
      120_000,
    );
  }

  async consumer(deposit: bigint): Promise<{ id: string; apiKey: string; client: TesseraClient }> {
    const c = await this.admin.createConsumer(`bench-${randomBytes(3).toString("hex")}`, deposit);
    return {
      id: c.id,
      apiKey: c.apiKey,
      client: new TesseraClient({ baseUrl: this.url, apiKey: c.apiKey, adminKey: this.adminKey }),
    };
  }

  /** Counters from the gateway's /metrics: jobs finished by status, summed over runtimes. */
  async finishedCounts(): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^tessera_jobs_finished_total\{[^}]*status="(\w+)"[^}]*\} (\d+)/gm))
      out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    return out;
  }

  /** Providers drain (so a --cpu-prof provider writes its profile), then the gateway stops. */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    await Promise.all(this.providers.map((p) => p.stop(10_000)));
    await this.gateway?.stop(15_000);
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
