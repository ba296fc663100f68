// `tessera up` killed outright (kill -9, the OOM killer) takes its network with it: the nodes,
// in process groups of their own, notice their parent is gone and stop, and their logs keep
// everything they wrote. And a second `up` on the same --dir with another port points the
// saved credentials at the gateway it runs, so client commands reach it.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { alive, childrenOf, freePort, type Proc, spawnTessera, until } from "../helpers/processes.js";

describe("tessera up, killed or restarted", () => {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const orphans: number[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-up-"));
    dirs.push(dir);
    return dir;
  };
  const up = (dir: string, port: number) => {
    const proc = spawnTessera(
      "up",
      ["up", "--port", String(port), "--dir", dir, "--providers", "1", "--verifiers", "0"],
      {
        detached: true,
      },
    );
    procs.push(proc);
    return proc;
  };
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop(20_000);
    // whatever a failed run left behind
    for (const pid of orphans.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("stops every node it started when it is killed with SIGKILL, and their logs keep what they wrote", async () => {
    const dir = tempDir();
    const proc = up(dir, await freePort());
    await until("the network to be up", () => proc.output().includes("Press Ctrl-C"), 120_000);
    const nodes = childrenOf(proc.child.pid!);
    orphans.push(...nodes.map((n) => n.pid));
    expect(nodes.length).toBe(2);
    proc.child.kill("SIGKILL");
    await proc.exited;
    for (const n of nodes) await until(`${n.cmd} to exit`, () => !alive(n.pid), 60_000);
    // what they wrote after `up` died is in their logs too: no pipe through the dead parent
    const gatewayLog = readFileSync(join(dir, "logs", "gateway.log"), "utf8");
    expect(gatewayLog).toContain("gateway listening on");
    expect(gatewayLog).toContain("tessera up is gone");
    const providerLog = readFileSync(join(dir, "logs", "provider-1.log"), "utf8");
    expect(providerLog).toMatch(/^provider [0-9a-f]+ region=/m);
    expect(providerLog).toContain("tessera up is gone");
  }, 240_000);

  it("points credentials.json at the gateway of a second run on another port, and a client command reaches it", async () => {
    const dir = tempDir();
    const first = up(dir, await freePort());
    await until("the first network to be up", () => first.output().includes("Press Ctrl-C"), 120_000);
    const before = JSON.parse(readFileSync(join(dir, "credentials.json"), "utf8")) as { apiKey: string };
    process.kill(-first.child.pid!, "SIGINT");
    expect(await first.exited).toBe(0);

    const port = await freePort();
    const second = up(dir, port);
    await until("the second network to be up", () => second.output().includes("Press Ctrl-C"), 120_000);
    const file = join(dir, "credentials.json");
    const after = JSON.parse(readFileSync(file, "utf8")) as { gateway: string; apiKey: string };
    expect(after).toEqual({ gateway: `http://127.0.0.1:${port}`, apiKey: before.apiKey });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const account = spawnTessera("account", ["account", "--dir", dir]);
    procs.push(account);
    const code = await account.exited;
    expect(code, account.output()).toBe(0);
    expect(account.output()).not.toContain("unreachable");

    // a file that is not what up writes is replaced, with a word, rather than failing the start
    process.kill(-second.child.pid!, "SIGINT");
    expect(await second.exited).toBe(0);
    writeFileSync(file, "{ not json");
    const third = up(dir, port);
    await until("the third network to be up", () => third.output().includes("Press Ctrl-C"), 120_000);
    expect(third.output()).toContain("holds no API key tessera up wrote; writing a new one");
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ gateway: `http://127.0.0.1:${port}` });
  }, 400_000);
});
