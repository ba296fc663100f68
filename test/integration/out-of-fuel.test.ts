// A WASM job that runs out of fuel, with real processes: the node signs it as a result, billed the
// whole fuel limit (the consumer set it, the node burned it), the job ends failed saying so, and an
// audit's re-run runs out too, so the honest node keeps its pay. A job that traps is billed the fuel
// it burned until the trap, alike. A node that answers jobs "out of
// fuel" without running them, to pocket every limit, is slashed by the same audits: the re-run
// finished within the limit.
import { loadBuiltinModule } from "@tessera/runtimes";
import type { TesseraClient } from "@tessera/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNetwork, until } from "../helpers/network.js";
import type { Proc } from "../helpers/processes.js";
import { decidedAudits, stakedVerifiers, verificationReads } from "../helpers/verification.js";

const MIN_STAKE = 1_000_000_000n;
const verifiers = stakedVerifiers(MIN_STAKE);
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("WASM jobs that run out of fuel or trap", () => {
  const net = new TestNetwork();
  const reads = verificationReads(net);
  let client: TesseraClient;
  let consumerId: string;
  let modules: { spin: string; reverse: string };
  let honest: Proc;

  const submit = (module: string, region: string, maxFuel: number) =>
    client.submitJob({
      runtime: "wasm",
      module,
      input: { data: b64("out of fuel") },
      limits: { timeoutMs: 10_000, maxMemoryMb: 16, maxFuel },
      constraints: { regions: [region] },
    });

  beforeAll(async () => {
    // every result audited
    await net.startGateway([...verifiers.flags, "--audit-new-rate", "1", "--audit-floor", "1"]);
    // two verifiers: a failed audit goes to a second one, and two verdicts against a node slash it
    for (const op of ["op-v", "op-w"])
      await net.startProvider({ region: `verifier-${op}`, runtimes: ["wasm"], extra: ["--verify", "--operator", op] });
    honest = await net.startProvider({ region: "honest", runtimes: ["wasm"], extra: ["--operator", "op-h"] });
    await net.startAdversary("claims-out-of-fuel", { region: "liar", operator: "op-x" });
    await net.waitForProviders(4);
    await verifiers.stake(reads, 2);
    for (const region of ["honest", "liar"]) {
      const n = await until(`${region} listed`, () => reads.byRegion(region));
      await reads.stake(n.id, MIN_STAKE);
    }
    ({ client, id: consumerId } = await net.consumer());
    const upload = async (name: "spin" | "reverse") => (await client.uploadBlob(await loadBuiltinModule(name))).id;
    modules = { spin: await upload("spin"), reverse: await upload("reverse") };
  }, 120_000);
  afterAll(() => net.stop());

  it("bills a job that ran out of fuel its whole limit, and an audit's re-run upholds it", async () => {
    const before = BigInt((await client.account()).spent);
    // 'spin' never ends: 2·10⁷ fuel, 2 SU, are burned and billed
    const job = await client.waitForJob((await submit(modules.spin, "honest", 20_000_000)).id);
    expect(job).toMatchObject({
      status: "failed",
      error: "the job itself is at fault: wasm job ran out of fuel (limit 20000000; a job may set limits.maxFuel)",
      units: { inputTokens: 0, outputTokens: 0, standardUnits: 2 },
    });
    expect(job.cost).toBe(job.escrow);
    expect(BigInt(job.cost ?? 0)).toBe(2n * BigInt(job.pricePerUnit ?? 0));
    expect(BigInt((await client.account()).spent) - before).toBe(BigInt(job.cost ?? 0));
    const [audit] = await decidedAudits(reads, [job.id]);
    expect(audit?.status).toBe("passed");
    expect(audit?.verdicts.every((v) => v.pass)).toBe(true);
    const honest = await reads.byRegion("honest");
    expect(honest).toMatchObject({ slashed: "0", excluded: false });
  });

  it("bills a job that trapped the fuel it burned, and an audit's re-run upholds it", async () => {
    const primes = (await client.uploadBlob(await loadBuiltinModule("primes"))).id;
    // primes traps (unreachable) on input that is not a number
    const job = await client.waitForJob((await submit(primes, "honest", 1_000_000_000)).id);
    expect(job).toMatchObject({
      status: "failed",
      error: "the job itself is at fault: wasm trap: unreachable",
      output: { data: "", trap: "wasm trap: unreachable" },
      units: { standardUnits: 1 },
      attempts: 1,
    });
    expect(job.cost).toBe(String(job.pricePerUnit));
    const [audit] = await decidedAudits(reads, [job.id]);
    expect(audit?.status).toBe("passed");
    // its operator reads why, not "job completed"
    const logged = honest
      .output()
      .split("\n")
      .find((l) => l.includes(job.id) && l.includes("stopped at its own fault"));
    expect(logged, honest.output().slice(-2000)).toContain('"stop":"wasm trap: unreachable"');
  });

  it("slashes a node that answers a job 'out of fuel' it never ran, and refunds the consumer", async () => {
    // 'reverse' needs far less than 10⁹ fuel: the liar bills all 100 SU of it
    const job = await client.waitForJob((await submit(modules.reverse, "liar", 1_000_000_000)).id);
    expect(job).toMatchObject({ status: "failed", error: expect.stringMatching(/ran out of fuel/) });
    expect(BigInt(job.cost ?? 0)).toBe(100n * BigInt(job.pricePerUnit ?? 0));
    const [audit] = await decidedAudits(reads, [job.id]);
    expect(audit?.status).toBe("slashed");
    const liar = await until("liar slashed and excluded", async () => {
      const n = await reads.byRegion("liar");
      return n?.excluded && BigInt(n.slashed) > 0n ? n : undefined;
    });
    expect(BigInt(liar.slashed)).toBeGreaterThan(0n);
    // the consumer got back what the lie cost, out of the liar's stake
    const detail = (await (
      await fetch(`${net.url}/v1/explorer/jobs/${job.id}`, { headers: { authorization: `Bearer ${net.adminKey}` } })
    ).json()) as { postings: Array<{ kind: string; from: string; to: string; amount: string }> };
    const slash = detail.postings.filter((p) => p.kind === "slash");
    expect(slash).toContainEqual(
      expect.objectContaining({ to: `consumer:${consumerId}:available`, amount: job.cost as string }),
    );
    expect(slash.every((p) => p.from === `provider:${liar.id}:stake`)).toBe(true);
  });
});
