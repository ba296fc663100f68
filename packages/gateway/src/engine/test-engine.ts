// Test helpers for the engine's tests: a store holding a funded consumer and a WASM module, event
// loop turns, and a wait for the sweep (its interval is real where only timeouts are faked).
import { depositEvent } from "@tessera/core";
import type { JobSpec } from "@tessera/protocol";
import { openStore, type Store } from "@tessera/store";
import pino from "pino";
import { afterEach, beforeEach, vi } from "vitest";
import { parseGatewayConfig } from "../config.js";
import { createMetrics } from "../metrics.js";
import { Engine } from "./engine.js";

/** the WASM module the engine tests' jobs name; a job must name a blob the gateway holds */
export const TEST_MODULE = "ab".repeat(32);

/** What the engine tests' WASM nodes offer: 4 slots, 1,000 SU/s, no WASM memory budget advertised. */
export const WASM_NODE = {
  runtimes: ["wasm" as const],
  models: [],
  pricePerUnit: 10,
  maxConcurrency: 4,
  throughput: 1_000,
};

/** A job spec running TEST_MODULE for at most 1 s in `maxMemoryMb` of memory. */
/** A WASM job of 10¹⁰ fuel: 1,000 SU, an escrow of 10,000 nc at the test nodes' 10 nc/SU. */
export function testWasmSpec(maxMemoryMb = 16): JobSpec {
  return {
    runtime: "wasm",
    module: TEST_MODULE,
    input: { data: "" },
    limits: { timeoutMs: 1_000, maxMemoryMb, maxFuel: 10_000_000_000 },
  };
}

/** An in-memory store where consumer c1 holds 1 credit and the gateway holds TEST_MODULE. */
export async function openTestStore(): Promise<Store> {
  const store = await openStore(":memory:");
  await store.commit([{ ledger: depositEvent("deposit:c1", "c1", 1_000_000_000n, 0) }]);
  await store.putBlob(TEST_MODULE, new Uint8Array([0, 97, 115, 109]), 0);
  return store;
}

export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Waits past one run of the engine's sweep (every 250 ms, on a real interval). An interval, not a
 * timeout: the tests that call it fake setTimeout for the group commit's linger.
 */
export function sweep(): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      clearInterval(t);
      resolve();
    }, 300);
  });
}

/** An engine on `store` with the test's clock and config (over the defaults), restored (which starts the sweep). */
export async function restoredEngine(
  store: Store,
  now: () => number,
  config: Record<string, unknown> = {},
  /** the clock the engine measures its own stalls on (default: the real monotonic clock) */
  monotonic?: () => number,
): Promise<Engine> {
  const engine = new Engine(
    store,
    parseGatewayConfig({ db: ":memory:", ...config }),
    pino({ level: "silent" }),
    createMetrics(),
    now,
    monotonic,
  );
  await engine.restore();
  return engine;
}

/**
 * A test store and a restored engine on it, with only the group commit's linger timer faked (it
 * never fires after the store closes; the sweep's interval stays real). For beforeEach.
 */
export async function startTestEngine(
  now: () => number,
  config: Record<string, unknown> = {},
  monotonic?: () => number,
): Promise<{ store: Store; engine: Engine }> {
  const store = await openTestStore();
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  return { store, engine: await restoredEngine(store, now, config, monotonic) };
}

/** Undoes startTestEngine. For afterEach. */
export async function stopTestEngine(t: { store: Store; engine: Engine }): Promise<void> {
  vi.useRealTimers();
  t.engine.stop();
  await t.store.close();
}

/**
 * An engine per test on two clocks the test moves: `now` (wall time, leases and deadlines) and
 * `monotonic` (what the engine measures its own stalls and nodes' silence on). Registers the
 * beforeEach and afterEach; read `t.engine` inside tests.
 */
export function clockedEngine(): { engine: Engine; now: number; monotonic: number } {
  const t = { engine: undefined as unknown as Engine, store: undefined as unknown as Store, now: 0, monotonic: 0 };
  beforeEach(async () => {
    t.now = 1_000_000;
    t.monotonic = 0;
    ({ store: t.store, engine: t.engine } = await startTestEngine(
      () => t.now,
      {},
      () => t.monotonic,
    ));
  });
  afterEach(() => stopTestEngine(t));
  return t;
}
