// Which of the engine's writes may linger for a group commit, over a real SQLite store: a Batch API
// line's (patient) but not a job a client waits on. And what the engine takes from a provider's results.
import { accounts, depositEvent } from "@tessera/core";
import { canonicalHash, generateIdentity, type JobSpec, signResult } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { createMetrics } from "../metrics.js";
import { Engine, type SubmitRequest } from "./engine.js";
import type { ProviderSession } from "./sessions.js";
import { LINGER_MS } from "./writer.js";

let store: Store;
let engine: Engine;
const MODULE = "ab".repeat(32);

beforeEach(async () => {
  store = await openStore(":memory:");
  await store.commit([{ ledger: depositEvent("deposit:c1", "c1", 1_000_000_000n, 0) }]);
  await store.putBlob(MODULE, new Uint8Array([0, 97, 115, 109]), 0); // a job must name a blob the gateway holds
  // only the linger timer is faked: turns of the event loop (setImmediate) stay real
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  engine = new Engine(store, parseGatewayConfig({ db: ":memory:" }), pino({ level: "silent" }), createMetrics());
});

afterEach(async () => {
  vi.useRealTimers();
  engine.stop();
  await store.close();
});

const request = (over: Partial<SubmitRequest> = {}): SubmitRequest => ({
  consumerId: "c1",
  spec: {
    runtime: "wasm",
    module: MODULE,
    input: { data: "" },
    limits: { timeoutMs: 1_000, maxMemoryMb: 16 },
  } as JobSpec,
  // no provider is online: a price ceiling lets the job queue
  constraints: { maxPricePerUnit: 10 },
  requestHash: "aa".repeat(32),
  jobClass: "batch",
  deadlineMs: 60_000,
  ...over,
});
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe("Engine writes and group commit", () => {
  it("answers a native job's submit at the end of its turn, escrowed", async () => {
    // the linger timer is never advanced: this submit must not wait for it
    const job = await engine.submit(request());
    expect((await store.getJob(job.id))?.status).toBe("queued");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow);
  });

  it("lets a Batch API line's submit linger until the group commits", async () => {
    let answered = false;
    const submitted = engine.submit(request({ patient: true })).then((j) => {
      answered = true;
      return j;
    });
    await turns(5);
    expect(answered).toBe(false);
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
    vi.advanceTimersByTime(LINGER_MS);
    const job = await submitted;
    expect((await store.getJob(job.id))?.status).toBe("queued");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow);
  });

  it("commits a lingering line's submit at once when a native submit arrives", async () => {
    const line = engine.submit(request({ patient: true }));
    await turns(2);
    const native = await engine.submit(request({ requestHash: "bb".repeat(32) }));
    const job = await line;
    expect((await store.getJob(job.id))?.status).toBe("queued");
    expect(await store.balance(accounts.escrow("c1"))).toBe(job.escrow + native.escrow);
  });
});

describe("Engine cancels", () => {
  it("answers every one of many simultaneous cancels with the cancelled job", async () => {
    const job = await engine.submit(request({ jobClass: "interactive" }));
    const answers = await Promise.all(Array.from({ length: 10 }, () => engine.cancel("c1", job.id)));
    expect(answers.map((j) => j.status)).toEqual(Array(10).fill("cancelled"));
    expect(await store.balance(accounts.escrow("c1"))).toBe(0n);
  });
});

describe("Engine results from a provider", () => {
  const identity = generateIdentity();
  const leases: string[] = [];
  const session: ProviderSession = {
    id: identity.id,
    capabilities: {
      runtimes: ["wasm"],
      models: [],
      pricePerUnit: 10,
      region: "here",
      maxConcurrency: 4,
      throughput: 1_000,
    },
    connectedAt: 0,
    draining: false,
    online: true,
    completed: 0,
    failed: 0,
    msPerUnit: null,
    send: (msg) => {
      if (msg.type === "lease") leases.push(msg.jobId);
    },
    close: () => {},
  };
  const output = { data: Buffer.from("out").toString("base64") };
  const result = (jobId: string, standardUnits: number, data = output.data) => {
    const claim = {
      jobId,
      attempt: 1,
      outputHash: canonicalHash({ data }),
      units: { inputTokens: 0, outputTokens: 0, standardUnits },
    };
    return {
      type: "result" as const,
      ...claim,
      output: { data },
      signature: signResult(identity, claim),
      elapsedMs: 1,
    };
  };
  const leased = async () => {
    engine.connect(session);
    const job = await engine.submit(request({ jobClass: "interactive", constraints: {} }));
    await until(() => leases.includes(job.id));
    return job;
  };
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await turns(1);
    expect(ok()).toBe(true);
  };

  it("accepts one result per lease however many frames arrive together", async () => {
    const job = await leased();
    const answers = await Promise.all([
      engine.result(session, result(job.id, 5)),
      ...Array.from({ length: 9 }, (_, i) => engine.result(session, result(job.id, 50 + i, `other-${i}`))),
    ]);
    expect(answers.filter((a) => a.accepted)).toHaveLength(1);
    expect(answers[0]).toEqual({ accepted: true });
    const stored = await store.getJob(job.id);
    // the record is the one that was paid for
    expect(stored).toMatchObject({ status: "completed", cost: 50n, output });
    expect(session.completed).toBe(1);
  });

  it("refuses a result billed past the job's time cap at the node's own throughput", async () => {
    const job = await leased();
    // 1 s at 1,000 SU/s: 2,000 SU with the timer's slack
    const answer = await engine.result(session, result(job.id, 1e12));
    expect(answer).toEqual({ accepted: false, reason: expect.stringMatching(/^standardUnits 1000000000000 exceed/) });
    expect((await store.getJob(job.id))?.status).toBe("queued"); // back in the queue for another node
  });
});
