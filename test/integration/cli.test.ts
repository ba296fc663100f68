// The client commands of the `tessera` CLI as a user scripts them: exit codes that say whether
// the work succeeded, JSON that parses, a cancel that refunds, and failures in one line.

import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, spawnTessera, TestNetwork, until } from "../helpers/network.js";

describe("tessera client commands", () => {
  const net = new TestNetwork();
  let flags: string[];

  const run = async (args: string[]) => {
    const p = spawnTessera("cli", [...args, ...flags]);
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const json = <T>(out: string): T => JSON.parse(out.slice(out.indexOf("{"))) as T;
  /** a failure's JSON is one line on stdout; its human line follows on stderr */
  const errorJson = (out: string) =>
    JSON.parse(out.split("\n").find((l) => l.startsWith("{")) ?? "null") as {
      error: { code: string; message: string };
    };

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ runtimes: ["llm", "wasm"] });
    await net.waitForProviders(1);
    const { apiKey } = await net.consumer();
    flags = ["--gateway", net.url, "--api-key", apiKey];
  }, 120_000);
  afterAll(() => net.stop());

  it("submit --wait exits 0 for a completed job and 1 for a failed one", async () => {
    const ok = await run(["submit", "--prompt", "hello", "--max-tokens", "4", "--wait", "--json"]);
    expect(ok.code, ok.out).toBe(0);
    expect(json<{ status: string }>(ok.out).status).toBe("completed");
    // the builtin 'grow' module asks for more memory than the job's cap
    const failed = await run(["submit", "--runtime", "wasm", "--module", "grow", "--wait", "--json"]);
    expect(failed.code, failed.out).toBe(1);
    expect(json<{ status: string }>(failed.out).status).toBe("failed");
  });

  it("submit --max-fuel caps a wasm job's work and its escrow", async () => {
    type Job = { status: string; error: string | null; escrow: string; cost: string | null; pricePerUnit: number };
    // 'reverse' burns far less than 10⁵ fuel: 1 SU escrowed, 1 SU billed
    const small = await run(
      ["submit", "--runtime", "wasm", "--module", "reverse", "--input", "abc"].concat([
        "--max-fuel",
        "100000",
        "--wait",
        "--json",
      ]),
    );
    expect(small.code, small.out).toBe(0);
    const done = json<Job>(small.out);
    expect(done.status).toBe("completed");
    expect(done.escrow).toBe(String(done.pricePerUnit));
    expect(done.cost).toBe(String(done.pricePerUnit));
    // 'spin' loops for ever: with 10⁶ fuel it stops at once, the same on any node, long before
    // its 10 s time cap; it burned all its fuel, so it is billed it (1 SU), as gas is
    const spin = await run([
      "submit",
      "--runtime",
      "wasm",
      "--module",
      "spin",
      "--max-fuel",
      "1000000",
      "--wait",
      "--json",
    ]);
    expect(spin.code, spin.out).toBe(1);
    const failed = json<Job>(spin.out);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe(
      "the job itself is at fault: wasm job ran out of fuel (limit 1000000; a job may set limits.maxFuel)",
    );
    expect(failed.escrow).toBe(String(failed.pricePerUnit));
    expect(failed.cost).toBe(failed.escrow);
    // without --json: the trap and what it cost, not the empty output
    const trapped = await run(["submit", "--runtime", "wasm", "--module", "primes", "--input", "abc", "--wait"]);
    expect(trapped.code, trapped.out).toBe(1);
    expect(trapped.out).toMatch(
      /failed +wasm attempts=1 cost=\d+nc {2}the job itself is at fault: wasm trap: unreachable/,
    );
    // a limit outside 1..10¹⁵ is refused before anything is sent
    const bad = await run(["submit", "--runtime", "wasm", "--module", "spin", "--max-fuel", "0"]);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("--max-fuel must be an integer between 1 and 1000000000000000");
  });

  it("cancels a queued job and refunds it", async () => {
    const before = json<{ escrow: string }>((await run(["account", "--json"])).out);
    // no provider is in this region: the job waits in the queue
    const queued = await run(["submit", "--prompt", "wait here", "--region", "mars", "--json"]);
    expect(queued.code, queued.out).toBe(0);
    const id = json<{ id: string; status: string }>(queued.out).id;
    const cancelled = await run(["cancel", id, "--json"]);
    expect(cancelled.code, cancelled.out).toBe(0);
    expect(json<{ status: string }>(cancelled.out).status).toBe("cancelled");
    expect(json<{ escrow: string }>((await run(["account", "--json"])).out).escrow).toBe(before.escrow);
    // cancelling again is no error; cancelling a job that completed is, and says so
    expect((await run(["cancel", id])).code).toBe(0);
    const done = json<{ id: string }>(
      (await run(["submit", "--prompt", "hi", "--max-tokens", "2", "--wait", "--json"])).out,
    );
    const late = await run(["cancel", done.id]);
    expect(late.code, late.out).toBe(1);
    expect(late.out).toContain(`error: job_finished: job ${done.id} had already completed; nothing was cancelled`);
    // --json says the same as an error, not as the job (which printed as if it had been cancelled)
    const lateJson = await run(["cancel", done.id, "--json"]);
    expect(lateJson.code, lateJson.out).toBe(1);
    expect(errorJson(lateJson.out).error).toEqual({
      code: "job_finished",
      message: `job ${done.id} had already completed; nothing was cancelled`,
    });
    expect(lateJson.out).not.toContain('"status"');
  });

  it("Ctrl-C on submit --wait stops waiting, not the job, and says how to reach it", async () => {
    const p = spawnTessera("cli", ["submit", "--prompt", "wait here", "--region", "mars", "--wait", ...flags]);
    const id = await until("the job id", () => /job (job_[0-9a-f]+) submitted/.exec(p.output())?.[1], 30_000);
    p.child.kill("SIGINT");
    expect(await p.exited).toBe(130);
    expect(p.output()).toContain(`'tessera cancel ${id}' cancels it`);
    expect((await run(["jobs", id, "--json"])).out).toContain('"status": "queued"');
    expect((await run(["cancel", id])).code).toBe(0);
  });

  it("pages through jobs with the cursor a listing prints", async () => {
    type Page = { data: { id: string }[]; hasMore: boolean; nextCursor: string | null };
    const all = json<Page>((await run(["jobs", "--limit", "500", "--json"])).out).data.map((j) => j.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const first = await run(["jobs", "--limit", "2"]);
    // run as printed, from anywhere: it names the gateway and key this listing used
    expect(first.out).toContain(`more: tessera jobs --limit 2 ${flags.join(" ")} --cursor `);
    const next = /--cursor (\S+)/.exec(first.out)?.[1];
    expect(next, first.out).toBe(all[1]);
    const rest = json<Page>((await run(["jobs", "--limit", "500", "--cursor", next as string, "--json"])).out);
    expect(rest.data.map((j) => j.id)).toEqual(all.slice(2));
    const bad = await run(["jobs", "--cursor", "nonsense", "--json"]);
    expect(bad.code).toBe(1);
    expect(errorJson(bad.out).error.code).toBeTruthy();
  });

  it("says a local-ledger gateway has nothing to bind or sign, and leaves no key file behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
    const keyFile = join(dir, "consumer.eth.json");
    const bind = await run(["settlement", "bind", "--eth-key", keyFile, "--json"]);
    expect(bind.code).toBe(1);
    expect(errorJson(bind.out).error.message).toContain("does not settle on chain");
    expect(existsSync(keyFile)).toBe(false);
    // --watch fails on its first pass instead of warning on every pass until interrupted
    writeFileSync(keyFile, "{}");
    const watch = await run(["vouchers", "sign", "--watch", "--eth-key", keyFile, "--json"]);
    expect(watch.code).toBe(1);
    expect(errorJson(watch.out).error.message).toContain("does not settle on chain");
  });

  it("refuses bad input before sending anything and says why in one line", async () => {
    const noPrompt = await run(["submit"]);
    expect(noPrompt.code).toBe(1);
    expect(noPrompt.out).toContain("--prompt is required for llm jobs");
    const missing = await run(["jobs", "job_0000000000000000000000000000", "--json"]);
    expect(missing.code).toBe(1);
    expect(errorJson(missing.out).error.code).toBe("job_not_found");
    expect(missing.out).not.toMatch(/\n\s+at /); // no stack trace
    // a module path that is not there, or is not WebAssembly, is said before any upload
    const wasm = (module: string) => run(["submit", "--runtime", "wasm", "--module", module]);
    const gone = await wasm("/no/such/module.wasm");
    expect([gone.code, gone.out.trim()]).toEqual([1, "error: --module: no such file /no/such/module.wasm"]);
    const notWasm = join(mkdtempSync(join(tmpdir(), "tessera-cli-")), "text.wasm");
    writeFileSync(notWasm, "hello");
    const text = await wasm(notWasm);
    expect([text.code, text.out.trim()]).toEqual([1, `error: --module: ${notWasm} is not a WebAssembly module`]);
    const version = await run(["--version"]);
    expect([version.code, version.out.trim()]).toEqual([0, "0.1.0 (protocol 2)"]);
  });

  it("checks a batch's flags and --out before uploading anything", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
    const input = join(dir, "in.jsonl");
    writeFileSync(input, `${JSON.stringify({ custom_id: "a", method: "POST", url: "/v1/jobs", body: {} })}\n`);
    const files = async () =>
      (await (await fetch(`${net.url}/v1/files`, { headers: { authorization: `Bearer ${flags[3]}` } })).json()) as {
        data: unknown[];
      };
    const before = await files();
    const badOut = await run(["batch", "submit", input, "--wait", "--out", join(dir, "nowhere", "out.jsonl")]);
    expect(badOut.code).toBe(1);
    expect(badOut.out).toContain("does not exist");
    // --out naming a directory (the output's, or the error file's beside it) was found by EISDIR after the batch ran
    const outDir = join(dir, "outdir");
    mkdirSync(outDir);
    const dirOut = await run(["batch", "submit", input, "--wait", "--out", outDir]);
    expect([dirOut.code, dirOut.out.trim()]).toEqual([
      1,
      `error: --out: ${outDir} is a directory; name the file to write`,
    ]);
    mkdirSync(join(dir, "o.errors.jsonl"));
    const dirErrors = await run(["batch", "submit", input, "--wait", "--out", join(dir, "o.jsonl")]);
    expect(dirErrors.code).toBe(1);
    expect(dirErrors.out).toContain(`${join(dir, "o.errors.jsonl")} is a directory`);
    const badWindow = await run(["batch", "submit", input, "--window", "tomorrow"]);
    expect(badWindow.code).toBe(1);
    expect(badWindow.out).toContain("--window must be like 24h");
    expect((await files()).data).toEqual(before.data);
  });

  it("says which gateway it could not reach", async () => {
    const closed = await freePort(); // nothing listens there
    const p = spawnTessera("cli", ["account", "--gateway", `http://127.0.0.1:${closed}`, "--api-key", "k", "--json"]);
    expect(await p.exited).toBe(1);
    expect(errorJson(p.output()).error).toMatchObject({
      code: "unreachable",
      message: expect.stringContaining("cannot reach the gateway"),
    });
  });

  it("chain up on a port in use says so in one line", async () => {
    const port = await freePort();
    const holder = createServer().listen(port, "127.0.0.1");
    await once(holder, "listening");
    try {
      const p = spawnTessera("chain", ["chain", "up", "--port", String(port)]);
      expect(await p.exited).toBe(1);
      expect(p.output().trim()).toBe(`error: port ${port} is in use (another devnet?); stop it or pass --port`);
    } finally {
      holder.close();
    }
  });
});
