// Contract, part 6: text holding U+0000. SQLite keeps it; PostgreSQL's text cannot, so the store
// writes it there as U+FFFD. Either way the write succeeds and every read answers.
import { IdempotencyConflict } from "@tessera/protocol";
import { expect, it } from "vitest";
import type { Harness } from "./contract.js";
import { capabilities, makeJob, makeProvider, submitOp } from "./fixtures.js";

/** what a string holding U+0000 reads back as on the store's dialect */
const stored = (h: Harness, s: string) => (h.store.dialect === "postgres" ? s.replaceAll("\0", "\uFFFD") : s);

export function nulContract(h: Harness): void {
  it("commits U+0000 in a job's error and an attempt's reason (a node quoting a module's import name)", async () => {
    const reason = 'wasm import "x\0" is not allowed';
    const job = makeJob("nul-err", { status: "failed", error: reason, finishedAt: 1_700_000_001_000 });
    const attempt = {
      jobId: job.id,
      attempt: 1,
      providerId: "p-1",
      leasedAt: 1_700_000_000_500,
      endedAt: 1_700_000_001_000,
      outcome: "rejected" as const,
      reason,
    };
    const r = await h.store.commit([{ job, attempt }]);
    expect(r).toEqual([{ ok: true, ledgerApplied: false }]);
    expect((await h.store.getJob(job.id))?.error).toBe(stored(h, reason));
    expect((await h.store.attempts(job.id)).map((a) => a.reason)).toEqual([stored(h, reason)]);
  });

  it("claims an idempotency key holding U+0000 once, and finds the job by it", async () => {
    await h.fund(100n);
    const key = "k\0";
    const first = makeJob("nul-key-1", { escrow: 10n, idempotencyKey: key });
    expect(await h.store.commit([submitOp(first, key)])).toEqual([{ ok: true, ledgerApplied: true }]);
    // a replay of the same submit succeeds without charging again; another job with the key conflicts
    expect(await h.store.commit([submitOp(first, key)])).toEqual([{ ok: true, ledgerApplied: false }]);
    const [other] = await h.store.commit([submitOp(makeJob("nul-key-2", { escrow: 10n }), key)]);
    expect(other?.ok).toBe(false);
    if (other?.ok === false) expect(other.error).toBeInstanceOf(IdempotencyConflict);
    expect((await h.store.jobByIdempotencyKey("alice", key))?.id).toBe("nul-key-1");
    expect(await h.store.getJob("nul-key-2")).toBeUndefined();
  });

  it("answers every explorer read when a prompt or a node's capabilities hold U+0000", async () => {
    const spec = {
      runtime: "llm" as const,
      model: "ab".repeat(32),
      input: { messages: [{ role: "user" as const, content: "he\0llo" }] },
      params: { temperature: 0 },
      limits: { maxOutputTokens: 4 },
    };
    const nul = makeJob("nul-prompt", {
      spec,
      status: "completed",
      providerId: "p-nul",
      cost: 5n,
      units: { inputTokens: 1, outputTokens: 2, standardUnits: 30 },
      startedAt: 1_700_000_000_100,
      finishedAt: 1_700_000_000_900,
    });
    const plain = makeJob("plain", { createdAt: 1_699_999_999_000 });
    // a WASM job that trapped: failed, and billed the SU it burned
    const trapped = makeJob("trapped", {
      spec: {
        runtime: "wasm",
        module: "12".repeat(32),
        input: { data: "" },
        limits: { timeoutMs: 1_000, maxMemoryMb: 16 },
      },
      status: "failed",
      providerId: "p-nul",
      cost: 7n,
      units: { inputTokens: 0, outputTokens: 0, standardUnits: 3 },
      error: "the job itself is at fault: wasm trap: unreachable",
      createdAt: 1_699_999_998_000,
    });
    const provider = makeProvider("p-nul", { capabilities: { ...capabilities, software: "x\0", region: "eu-west" } });
    expect(await h.store.commit([{ job: nul }, { job: plain }, { job: trapped }, { provider }])).toHaveLength(4);

    // the prompt is JSON: it keeps U+0000 (as the escape \u0000) on both dialects
    expect((await h.store.getJob("nul-prompt"))?.spec).toEqual(spec);
    const ex = h.store.explorer;
    expect((await ex.jobsPage({ limit: 10 })).map((j) => [j.id, j.runtime, j.standardUnits])).toEqual([
      ["nul-prompt", "llm", 30],
      ["plain", "llm", null],
      ["trapped", "wasm", 3],
    ]);
    expect((await ex.jobsPage({ limit: 10, runtime: "llm" })).length).toBe(2);
    expect(await ex.regions()).toEqual([
      { region: "eu-west", providers: 1, online: 1, capacity: 4, onlineCapacity: 4 },
    ]);
    const page = await ex.providersPage({ limit: 5, offset: 0, sort: "id", region: "eu-west" });
    expect(page.total).toBe(1);
    expect(page.rows[0]?.capabilities.software).toBe("x\0");
    // the work paid for: the completed job and the trapped one, billed
    expect((await ex.leaderboard(5)).map((r) => [r.providerId, r.jobs, r.standardUnits])).toEqual([["p-nul", 2, 33]]);
    const w = await ex.finishedWindow(0, 2_000_000_000_000);
    expect([w.completed, w.outputTokens, w.standardUnits]).toEqual([1, 2, 30]);
  });
}
