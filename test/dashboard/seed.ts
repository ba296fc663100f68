// Seeds a store with a network's worth of history through the real transitions and ledger
// events (submit escrow, lease, signed result, settlement), so the explorer reads what a
// gateway would have written: invariants hold and every seeded signature verifies.
import { complete, depositEvent, escrowEvent, failPermanently, type JobRecord, lease } from "@tessera/core";
import { canonicalHash, generateIdentity, type Identity, type JobOutput, signResult } from "@tessera/protocol";
import type { Store, WriteOp } from "@tessera/store";

export const SEED_REGIONS = ["eu-west", "us-east", "us-west", "ap-south", "ap-east", "sa-east", "af-south", "eu-north"];
const MODEL = "96389be0649aa1e54654fb5a2be80e0de9001a4b0e1003598cf93a10efee6b5b";

export interface SeedOptions {
  providers: number;
  jobs: number;
  consumers?: number;
  /** jobs end within this many ms before `now` */
  spanMs?: number;
  now?: number;
  /** signing every result costs ~50 µs each; only the newest `signed` jobs get a real signature */
  signed?: number;
}

/** Deterministic pseudo-random numbers (mulberry32): the same seed gives the same network. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function seedNetwork(
  store: Store,
  o: SeedOptions,
): Promise<{ providers: Identity[]; consumers: string[] }> {
  const now = o.now ?? Date.now();
  const span = o.spanMs ?? 3_600_000;
  const rand = rng(42);
  const ids = Array.from({ length: o.providers }, () => generateIdentity());
  const prices = ids.map(() => 10 + Math.floor(rand() * 90));
  const provOps: WriteOp[] = ids.map((p, i) => ({
    provider: {
      id: p.id,
      capabilities: {
        runtimes: i % 3 === 0 ? ["wasm"] : ["llm", "wasm"],
        models: i % 3 === 0 ? [] : [{ id: MODEL, name: "tessera-tiny", parameters: 1_400_000, contextSize: 512 }],
        pricePerUnit: prices[i] ?? 50,
        region: SEED_REGIONS[i % SEED_REGIONS.length] ?? "eu-west",
        maxConcurrency: 1 + (i % 8),
        throughput: 500 + Math.floor(rand() * 5000),
      },
      firstSeenAt: now - span,
      lastSeenAt: now - Math.floor(rand() * span),
      online: false,
      completed: 0,
      failed: 0,
    },
  }));
  for (let i = 0; i < provOps.length; i += 1000) await store.commit(provOps.slice(i, i + 1000));

  const consumers = Array.from({ length: o.consumers ?? 20 }, (_, i) => `c_seed${String(i).padStart(4, "0")}`);
  for (const c of consumers) {
    await store.createConsumer({ id: c, name: `seed ${c}`, createdAt: now - span });
    await store.commit([{ ledger: depositEvent(`deposit:seed:${c}`, c, 10n ** 15n, now - span) }]);
  }

  const signed = o.signed ?? 200;
  let batch: WriteOp[] = [];
  for (let n = 0; n < o.jobs; n++) {
    const created = now - span + Math.floor((n / o.jobs) * span);
    const pi = Math.floor(rand() * ids.length);
    const provider = ids[pi] as Identity;
    const consumerId = consumers[n % consumers.length] as string;
    const id = `job_${created.toString(16).padStart(12, "0")}${n.toString(16).padStart(16, "0")}`;
    const job: JobRecord = {
      id,
      consumerId,
      spec: {
        runtime: "wasm",
        module: "ab".repeat(32),
        input: { data: "aGVsbG8=" },
        limits: { timeoutMs: 10_000, maxMemoryMb: 64 },
      },
      constraints: {},
      jobClass: "interactive",
      status: "queued",
      attempt: 0,
      maxAttempts: 3,
      providerId: null,
      pricePerUnit: null,
      leaseExpiresAt: null,
      triedProviders: [],
      escrow: 1_000_000n,
      cost: null,
      units: null,
      output: null,
      outputHash: null,
      signature: null,
      error: null,
      idempotencyKey: null,
      requestHash: "cd".repeat(32),
      createdAt: created,
      updatedAt: created,
      startedAt: null,
      finishedAt: null,
      deadlineAt: created + 60_000,
    };
    const leased = lease(job, provider.id, prices[pi] ?? 50, created + 5, 15_000);
    const end = created + 20 + Math.floor(rand() * 400);
    const output = { data: Buffer.from(`out-${n}`).toString("base64") };
    const units = { inputTokens: 0, outputTokens: 0, standardUnits: 100 + Math.floor(rand() * 900) };
    const signedResult = (out: JobOutput) => {
      const outputHash = canonicalHash(out);
      const signature =
        n >= o.jobs - signed ? signResult(provider, { jobId: id, attempt: 1, outputHash, units }) : "c2VlZGVk";
      return { output: out, outputHash, units, signature };
    };
    const draw = rand();
    // about 3% failed unbilled, 2% trapped (failed at their own fault, billed the fuel burned)
    const trapped = { data: "", trap: "wasm trap: unreachable" };
    const done =
      draw < 0.03
        ? failPermanently(leased.job, "seeded failure", end)
        : draw < 0.05
          ? complete(leased.job, { ...signedResult(trapped), feeBps: 500, now: end })
          : complete(leased.job, { ...signedResult(output), feeBps: 500, now: end });
    batch.push(
      { job, ledger: escrowEvent(id, consumerId, job.escrow, created) },
      { job: leased.job, ...(leased.attempt ? { attempt: leased.attempt } : {}) },
      {
        job: done.job,
        ...(done.ledger ? { ledger: done.ledger } : {}),
        ...(done.attempt ? { attempt: done.attempt } : {}),
      },
    );
    if (batch.length >= 3000) {
      await store.commit(batch);
      batch = [];
    }
  }
  if (batch.length) await store.commit(batch);
  return { providers: ids, consumers };
}
