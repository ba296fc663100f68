// `tessera up`, the README's first command, as a user runs it: the demo does real work and checks
// the ledger; Ctrl-C stops every node it started; a gateway killed under it stops the network
// with an error instead of leaving providers dialling nothing.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { alive, childrenOf, freePort, type Proc, spawnTessera, until } from "../helpers/processes.js";

describe("tessera up", () => {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const up = async (args: string[], port?: number) => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-up-"));
    dirs.push(dir);
    port ??= await freePort();
    // a group of its own, as a shell gives a foreground job
    const proc = spawnTessera("up", ["up", "--port", String(port), "--dir", dir, ...args], { detached: true });
    procs.push(proc);
    return { proc, dir, port };
  };
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop(20_000);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("runs the demo through a whole network and exits cleanly with the ledger checked", async () => {
    const { proc, dir } = await up([
      "--providers",
      "2",
      "--verifiers",
      "1",
      "--demo",
      "--chats",
      "3",
      "--wasm-jobs",
      "6",
      "--exit-after-demo",
    ]);
    const code = await proc.exited;
    const out = proc.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/ 9 jobs completed, 0 failed/);
    expect(out).toContain("ledger invariants: hold");
    // one row per node, named as `up` started it: jobs add up, and a node earned what it was
    // billed less the protocol fee (a verifier may earn audit fees on top)
    const rows = [...out.matchAll(/^ (\S+)\s+[0-9a-f]{16}…\s+\S+\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)$/gm)].map(
      (m) => ({
        node: m[1] ?? "",
        jobs: Number(m[2]),
        billed: Number(m[4]),
        earned: Number(m[5]),
      }),
    );
    expect(rows.map((r) => r.node).sort()).toEqual(["provider-1", "provider-2", "verifier-1"]);
    expect(rows.reduce((n, r) => n + r.jobs, 0)).toBe(9);
    for (const r of rows.filter((x) => x.node.startsWith("provider-") && x.jobs > 0)) {
      expect(r.earned).toBeGreaterThan(0);
      expect(r.earned).toBeLessThan(r.billed);
    }
    const creds = JSON.parse(readFileSync(join(dir, "credentials.json"), "utf8")) as {
      gateway: string;
      apiKey: string;
    };
    expect(creds.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(creds.apiKey.length).toBeGreaterThan(10);
  }, 240_000);

  it("stops every node on Ctrl-C, providers draining, and refuses a second network on the same port", async () => {
    const first = await up(["--providers", "1", "--verifiers", "0"]);
    await until("the network to be up", () => first.proc.output().includes("Press Ctrl-C"), 120_000);
    const nodes = childrenOf(first.proc.child.pid!);
    expect(nodes.length).toBe(2);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(first.proc.output())?.[1]);
    const second = await up(["--providers", "1", "--verifiers", "0"], port);
    expect(await second.proc.exited).toBe(1);
    expect(second.proc.output()).toContain(`port ${port} is in use`);
    expect(second.proc.output()).not.toContain("Press Ctrl-C");
    // a terminal's Ctrl-C signals the whole foreground group: the nodes, in groups of their own,
    // hear only from `up`, so a provider drains instead of taking a second signal as "exit now"
    process.kill(-first.proc.child.pid!, "SIGINT");
    expect(await first.proc.exited).toBe(0);
    for (const n of nodes) expect(alive(n.pid), n.cmd).toBe(false);
    const providerLog = readFileSync(join(first.dir, "logs", "provider-1.log"), "utf8");
    expect(providerLog).toContain("SIGTERM, draining");
    expect(providerLog).not.toContain("SIGINT");
    expect(providerLog).not.toContain("again, exiting now");
  }, 300_000);

  it("stops the network with an error when its gateway dies", async () => {
    const net = await up(["--providers", "2", "--verifiers", "0"]);
    await until("the network to be up", () => net.proc.output().includes("Press Ctrl-C"), 120_000);
    const children = childrenOf(net.proc.child.pid!);
    const gateway = children.find((c) => c.cmd.includes(" gateway "));
    expect(gateway, children.map((c) => c.cmd).join("\n")).toBeDefined();
    process.kill(gateway!.pid, "SIGKILL");
    expect(await net.proc.exited).toBe(1);
    expect(net.proc.output()).toMatch(/gateway exited \(code killed\); stopping the network/);
    for (const n of children) expect(alive(n.pid), n.cmd).toBe(false);
  }, 300_000);
});
