// The gateway killed (kill -9) again and again at seeded random moments, every other time with a
// provider holding leases (a new one takes its place), while a client keeps submitting WASM and
// LLM jobs in four lanes, each under its own idempotency key, retrying a submit whose answer
// it never got (connection refused or cut) until one comes: the way a careful client survives a
// crash. Afterwards every key has exactly one job, the same one every answer named, every job
// completed with the right output, and the money adds up to the cent with the ledger's
// invariants holding. gateway-restart.test.ts is the single kill with every job accepted first.

import type { SubmitJobInput } from "@tessera/protocol";
import { loadBuiltinModule } from "@tessera/runtimes";
import type { JobView } from "@tessera/sdk";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settledJobs, wasmData } from "../helpers/fuzz.js";
import { TestNetwork } from "../helpers/network.js";

const KILLS = 4;
const SEED = Number(process.env.TESSERA_FUZZ_SEED ?? 20261207);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("gateway killed at random moments under a stream of submits", () => {
  const net = new TestNetwork();
  const DEPOSIT = 1_000n * 1_000_000_000n;

  beforeAll(async () => {
    await net.startGateway();
    await net.startProvider({ region: "eu-west", concurrency: 2, runtimes: ["llm", "wasm"] });
    await net.startProvider({ region: "us-east", concurrency: 2, runtimes: ["llm", "wasm"] });
    await net.waitForProviders(2);
  }, 120_000);
  afterAll(() => net.stop());

  it("keeps exactly one completed job per idempotency key, and every cent", async () => {
    const { apiKey, client } = await net.consumer(DEPOSIT);
    const reverse = (await client.uploadBlob(await loadBuiltinModule("reverse"))).id;
    const model = (await client.models()).data[0]?.content_id as string;
    // the moments to kill at (ms after the last restart), from the seed
    const pauses = fc.sample(fc.integer({ min: 300, max: 2_000 }), { numRuns: KILLS, seed: SEED });

    const specOf = (i: number): SubmitJobInput =>
      i % 3 === 0
        ? {
            runtime: "llm",
            model,
            input: { prompt: `chaos ${i}` },
            params: { temperature: 0 },
            limits: { maxOutputTokens: 8 },
            idempotencyKey: `chaos-${i}`,
          }
        : {
            runtime: "wasm",
            module: reverse,
            input: { data: Buffer.from(`chaos ${i}`).toString("base64") },
            idempotencyKey: `chaos-${i}`,
          };
    /** key → every job id an answer for it named */
    const answers = new Map<string, Set<string>>();
    let retried = 0;
    let chaosOver = false;
    let submits = 0;

    // four lanes submit, each one job every 40 ms, until the kills are over: some are in flight at each kill
    const lane = async () => {
      for (let n = 0; !chaosOver || n < 5; n++) {
        await sleep(40);
        const i = submits++;
        const spec = specOf(i);
        for (;;) {
          try {
            const job: JobView = await client.submitJob(spec);
            const seen = answers.get(spec.idempotencyKey as string) ?? new Set<string>();
            answers.set(spec.idempotencyKey as string, seen.add(job.id));
            break;
          } catch (err) {
            // no answer (the gateway is down or went down mid-request), or it is not ready yet
            const status = (err as { status?: number }).status;
            if (status !== undefined && status < 500) throw err;
            retried++;
            await sleep(50);
          }
        }
        // every fourth submit of a key already answered is sent again: the same job comes back
        if (i % 4 === 0) {
          const again = await client.submitJob(spec).catch(() => undefined);
          if (again) answers.get(spec.idempotencyKey as string)?.add(again.id);
        }
      }
    };
    const lanes = Promise.all([lane(), lane(), lane(), lane()]);

    for (const [k, pause] of pauses.entries()) {
      await sleep(pause);
      await net.gateway?.kill("SIGKILL");
      // every other time a provider dies with it, holding leases, and a new one takes its place
      if (k % 2 === 1) await net.providers.find((p) => p.child.exitCode === null && !p.child.killed)?.kill("SIGKILL");
      await net.startGateway();
      if (k % 2 === 1) await net.startProvider({ region: `new-${k}`, concurrency: 2, runtimes: ["llm", "wasm"] });
    }
    chaosOver = true;
    await lanes;
    await net.waitForProviders(2);
    expect(retried).toBeGreaterThan(0);

    // one job per key, the one every answer named
    expect(answers.size).toBe(submits);
    for (const [key, ids] of answers) expect([key, ids.size]).toEqual([key, 1]);
    const jobs = await settledJobs(net, apiKey, DEPOSIT);
    expect(jobs.length).toBe(submits);
    const named = new Set([...answers.values()].flatMap((ids) => [...ids]));
    expect(new Set(jobs.map((j) => j.id))).toEqual(named);
    expect(jobs.filter((j) => j.status !== "completed")).toEqual([]);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (let i = 0; i < submits; i++) {
      if (i % 3 === 0) continue;
      const id = [...(answers.get(`chaos-${i}`) ?? [])][0] as string;
      const want = Buffer.from([...`chaos ${i}`].reverse().join("")).toString("base64");
      expect(wasmData(byId.get(id) as JobView)).toBe(want);
    }
  }, 600_000);
});
