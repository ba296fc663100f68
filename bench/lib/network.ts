// Real gateway and provider processes on loopback, started through the `tessera` CLI the way
// an operator starts them (the process layer is the tests', test/helpers/processes.ts), plus what
// benches need: node flags such as --cpu-prof, log levels, runtimes, a traced gateway and a
// graceful stop.
import { join } from "node:path";
import { type GatewayOptions, type ProviderOptions, TestNetwork } from "../../test/helpers/network.js";
import { type Proc, REPO, spawnScript } from "../../test/helpers/processes.js";

export {
  firstMessage,
  freePort,
  type Proc,
  REPO,
  spawnProcess,
  spawnScript,
  until,
} from "../../test/helpers/processes.js";

export interface BenchGatewayOptions extends GatewayOptions {
  /**
   * Run the gateway through bench/lib/traced-gateway.ts (timestamps, commit sizes) with these
   * settings instead of the `tessera gateway` command; `args` is then ignored.
   */
  traced?: Record<string, unknown>;
}

/** The tests' network with a bench's defaults: quiet providers, one slot each, a graceful stop. */
export class TesseraNetwork extends TestNetwork {
  override startGateway(o: BenchGatewayOptions = {}): Promise<void> {
    return super.startGateway(o);
  }

  protected override spawnGateway(args: string[], o: BenchGatewayOptions): Proc {
    if (!o.traced) return super.spawnGateway(args, o);
    const config = {
      port: this.port,
      host: "127.0.0.1",
      db: join(this.dir, "gateway.db"),
      adminKey: this.adminKey,
      logLevel: "warn",
      ...o.traced,
    };
    return spawnScript("gateway", join(REPO, "bench/lib/traced-gateway.ts"), [JSON.stringify(config)], {
      nodeArgs: o.nodeArgs,
      env: o.env,
    });
  }

  override startProvider(o: ProviderOptions = {}): Promise<Proc> {
    return super.startProvider({ concurrency: 1, logLevel: "warn", ...o });
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
  override stop(o: { keepDir?: boolean } = {}): Promise<void> {
    return super.stop({ graceful: true, ...o });
  }
}
