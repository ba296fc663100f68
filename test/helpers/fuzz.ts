// Generated bad input for the fuzz tests (api-, channel-, provider- and batch-fuzz): valid JSON
// bodies with fields set to odd values, deleted, or strangers added; random JSON; text that is not
// JSON. And the check they end with: every job ended and the consumer's money adds up.
import { type JobView, TesseraClient } from "@tessera/sdk";
import fc from "fast-check";
import { expect } from "vitest";
import { type TestNetwork, until } from "./network.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const oddValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Json>(
      null,
      true,
      0,
      -1,
      1.5,
      2 ** 31,
      2 ** 53 + 2,
      1e308,
      -1e308,
      "",
      " ",
      "\u0000",
      "💥\uD800",
      "NaN",
      "1e999",
      [],
      {},
      [null],
      { "": null },
      "a".repeat(70_000),
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

interface Mutation {
  path: number[];
  op: "set" | "delete" | "add";
  key: string;
  value: Json;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 4 }),
  op: fc.constantFrom("set" as const, "delete" as const, "add" as const),
  key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "stream", "n", "seed")),
  value: oddValue,
});

const children = (node: Json): (string | number)[] =>
  Array.isArray(node) ? node.map((_, i) => i) : node !== null && typeof node === "object" ? Object.keys(node) : [];

/** Applies one mutation to a copy: walks `path` (each step picks a child modulo their count), then sets, deletes or adds there. */
function mutate(base: Json, m: Mutation): Json {
  const root: { v: Json } = { v: structuredClone(base) };
  let parent: Record<string | number, Json> = root as unknown as Record<string, Json>;
  let at: string | number = "v";
  for (const step of m.path) {
    const node = parent[at] as Json;
    const keys = children(node);
    if (keys.length === 0) break;
    parent = node as unknown as Record<string | number, Json>;
    at = keys[step % keys.length] as string | number;
  }
  const node = parent[at] as Json;
  if (m.op === "set") parent[at] = m.value;
  else if (m.op === "delete") {
    if (Array.isArray(parent)) parent.splice(at as number, 1);
    else if (parent !== root) delete parent[at];
    else root.v = null;
  } else if (Array.isArray(node)) node.push(m.value);
  else if (node !== null && typeof node === "object")
    Object.defineProperty(node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  else parent[at] = { [m.key]: m.value };
  return root.v;
}

/**
 * How to make a body from a valid one known only when the test runs (a frame answering a lease):
 * mostly the valid one with one to three mutations, sometimes as it is, random JSON or not JSON.
 */
export const bodyPlan: fc.Arbitrary<(valid: Json) => string> = fc.oneof(
  { weight: 4, arbitrary: fc.constant((valid: Json) => JSON.stringify(valid)) },
  {
    weight: 10,
    arbitrary: fc
      .array(mutation, { minLength: 1, maxLength: 3 })
      .map((ms) => (valid: Json) => JSON.stringify(ms.reduce(mutate, valid))),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => () => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((text) => () => text) },
);

/** A body made by bodyPlan from a valid one known up front. */
export const bodyFrom = (valid: Json): fc.Arbitrary<string> => bodyPlan.map((plan) => plan(valid));

/** The same inputs every run; TESSERA_FUZZ_SEED and TESSERA_FUZZ_RUNS explore others. */
export const fuzzRuns = (runs: number) => ({
  numRuns: Number(process.env.TESSERA_FUZZ_RUNS ?? runs),
  seed: Number(process.env.TESSERA_FUZZ_SEED ?? 20261207),
  endOnFailure: true,
});

/** A WASM job's output bytes (base64); undefined for an LLM job or one with no output. */
export const wasmData = (job: JobView): string | undefined =>
  job.output && "data" in job.output ? job.output.data : undefined;

/** The gateway process has not exited and answers /healthz. */
export async function gatewayUp(net: TestNetwork): Promise<void> {
  expect(net.gateway?.child.exitCode ?? null).toBeNull();
  expect((await fetch(`${net.url}/healthz`)).status).toBe(200);
}

/** Every job of the consumer holding `apiKey`, page by page. */
export async function consumerJobs(net: TestNetwork, apiKey: string): Promise<JobView[]> {
  const client = new TesseraClient({ baseUrl: net.url, apiKey });
  const jobs: JobView[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await client.listJobs({ limit: 500, ...(cursor ? { cursor } : {}) });
    jobs.push(...page.data);
    if (!page.nextCursor) return jobs;
    cursor = page.nextCursor;
  }
}

/**
 * Cancels every job of the consumer not ended yet: one whose constraints no node meets would
 * wait out its deadline (a day unless it says). One that ends meanwhile answers 409, ignored.
 */
export async function cancelUnfinished(net: TestNetwork, apiKey: string): Promise<void> {
  const client = new TesseraClient({ baseUrl: net.url, apiKey });
  for (const j of await consumerJobs(net, apiKey))
    if (j.status === "queued" || j.status === "running") await client.cancelJob(j.id).catch(() => undefined);
}

/**
 * Waits for every job of the consumer to end, then checks that nothing was lost: the gateway is
 * up, no escrow is left, what the consumer spent is what its jobs cost, its deposit is its balance
 * plus that, and the ledger's invariants hold. Returns the jobs.
 */
export async function settledJobs(net: TestNetwork, apiKey: string, deposit: bigint): Promise<JobView[]> {
  const jobs = await until(
    "every job to end",
    async () => {
      const js = await consumerJobs(net, apiKey);
      return js.every((j) => ["completed", "failed", "cancelled"].includes(j.status)) ? js : undefined;
    },
    300_000,
  );
  await gatewayUp(net);
  const account = await new TesseraClient({ baseUrl: net.url, apiKey }).account();
  const costs = jobs.reduce((sum, j) => sum + BigInt(j.cost ?? "0"), 0n);
  expect(account.escrow).toBe("0");
  expect(BigInt(account.spent)).toBe(costs);
  expect(BigInt(account.balance) + costs).toBe(deposit);
  expect((await net.admin.ledger()).ok).toBe(true);
  return jobs;
}
