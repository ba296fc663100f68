// Which of the engine's writes may linger for a group commit, over a real SQLite store: a Batch API
// line's (patient) but not a job a client waits on.
import { accounts, depositEvent } from "@tessera/core";
import type { JobSpec } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { createMetrics } from "../metrics.js";
import { Engine, type SubmitRequest } from "./engine.js";
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
