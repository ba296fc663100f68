// Group-commit throughput on a SQLite file: ops/s for batches of 1, 10 and 100, each op shaped
// like the gateway's (submit = job + escrow + idempotency key; completion = job + settle + attempt).
// Run: npx tsx packages/store/bench/commit-throughput.ts [postgres-url]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { depositEvent, escrowEvent, type JobRecord, settleEvent } from "@tessera/core";
import { openStore, type WriteOp } from "@tessera/store";

const MODEL = "a".repeat(64);

function job(id: string, consumerId: string, now: number): JobRecord {
  return {
    id,
    consumerId,
    spec: {
      runtime: "llm",
      model: MODEL,
      input: { prompt: "Write a haiku about distributed ledgers and the people who audit them." },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 256 },
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
    idempotencyKey: `idem-${id}`,
    requestHash: "b".repeat(64),
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    deadlineAt: now + 60_000,
  };
}

function submitOp(j: JobRecord): WriteOp {
  return {
    job: j,
    ledger: escrowEvent(j.id, j.consumerId, j.escrow, j.createdAt),
    idempotency: { consumerId: j.consumerId, key: j.idempotencyKey ?? j.id, jobId: j.id },
  };
}

function completeOp(j: JobRecord, now: number): WriteOp {
  const done: JobRecord = {
    ...j,
    status: "completed",
    attempt: 1,
    providerId: "p1",
    pricePerUnit: 10,
    output: {
      text: "ledgers balance / auditors sleep soundly / every nano-credit",
      tokens: [1, 2, 3],
      logprobs: [-0.1, -0.2, -0.3],
      finishReason: "stop",
    },
    outputHash: "c".repeat(64),
    units: { inputTokens: 20, outputTokens: 18, standardUnits: 50_000 },
    signature: "d".repeat(128),
    cost: 500_000n,
    startedAt: now,
    finishedAt: now,
    updatedAt: now,
  };
  return {
    job: done,
    ledger: settleEvent({
      jobId: j.id,
      consumerId: j.consumerId,
      providerId: "p1",
      escrowed: j.escrow,
      cost: 500_000n,
      feeBps: 500,
      at: now,
    }),
    attempt: {
      jobId: j.id,
      attempt: 1,
      providerId: "p1",
      leasedAt: now,
      endedAt: now,
      outcome: "completed",
      reason: null,
    },
  };
}

async function run(url: string, batch: number, jobs: number): Promise<void> {
  const store = await openStore(url);
  await store.commit([{ ledger: depositEvent(`dep-${batch}`, "c1", 10n ** 18n, 0) }]);
  const records = Array.from({ length: jobs }, (_, i) => job(`b${batch}-j${i}`, "c1", 1_700_000_000_000 + i));
  const ops = [...records.map(submitOp), ...records.map((j) => completeOp(j, 1_700_000_100_000))];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < ops.length; i += batch) {
    const results = await store.commit(ops.slice(i, i + batch));
    if (results.some((r) => !r.ok)) throw new Error("an op failed");
  }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  console.log(
    `${store.dialect} batch ${String(batch).padStart(3)}: ${Math.round(ops.length / s).toLocaleString("en")} ops/s` +
      ` (${ops.length} ops in ${s.toFixed(2)} s; ${Math.round(ops.length / cpu).toLocaleString("en")} ops per CPU-second)`,
  );
  await store.close();
}

const pgUrl = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
try {
  for (const batch of (process.env.BATCHES ?? "1,10,100").split(",").map(Number)) {
    const jobs = batch === 1 ? 5_000 : 20_000;
    await run(pgUrl ?? join(dir, `b${batch}.db`), batch, jobs);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
