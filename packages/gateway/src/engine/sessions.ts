// A connected provider as the engine sees it: what it offers, how it has done, how to reach it.

import type { ProviderView } from "@tessera/core";
import { reputationOf, wasmMemoryFreeMb } from "@tessera/core";
import type { Capabilities, GatewayMessage } from "@tessera/protocol";

export interface ProviderSession {
  id: string;
  capabilities: Capabilities;
  connectedAt: number;
  draining: boolean;
  online: boolean;
  completed: number;
  failed: number;
  /** smoothed ms per standard unit from lease to result; null until the first result */
  msPerUnit: number | null;
  /**
   * MiB of its WASM memory budget that its audits hold or wait for, as its last heartbeat listed
   * them (HeartbeatMsg.audits): the scheduler counts it used, as it counts its leased WASM jobs
   */
  auditWasmMb?: number;
  /**
   * It said in its hello that it holds leases from an earlier session (HelloMsg.holding): nothing
   * is leased to it until its first heartbeat names them (Engine.heartbeat)
   */
  awaitingHeartbeat?: boolean;
  /** when a frame of it was last read (the engine's monotonic clock) */
  lastHeardAt?: number;
  /** it has sent a heartbeat on this session: from then on it is expected to, every period */
  heartbeats?: boolean;
  /**
   * It heartbeats, and nothing was read from it for core's silentAfterMs (a node frozen
   * or asleep with its socket open, a network that drops packets): leased nothing until it is heard
   */
  silent?: boolean;
  /** reputation from verification records (verification/start.ts); the completion record until set */
  reputation?: () => number;
  send(msg: GatewayMessage): void;
  close(code: number, reason: string): void;
}

/**
 * `wasmMemoryUsedMb`: the memory limits of its running WASM jobs, beside which the memory its audits
 * hold (auditWasmMb) is counted used; absent, what it could take at all (its whole budget).
 */
export function toView(
  s: ProviderSession,
  running: number,
  maxJobCost?: bigint,
  wasmMemoryUsedMb?: number,
): ProviderView {
  const budget = s.capabilities.wasmMemoryMb;
  return {
    ...(maxJobCost === undefined ? {} : { maxJobCost }),
    ...(budget === undefined
      ? {}
      : {
          wasmMemoryFreeMb:
            wasmMemoryUsedMb === undefined ? budget : wasmMemoryFreeMb(budget, wasmMemoryUsedMb, s.auditWasmMb ?? 0),
        }),
    id: s.id,
    capabilities: s.capabilities,
    running,
    reputation: s.reputation?.() ?? reputationOf(s),
    latencyMs: s.msPerUnit,
    draining: s.draining,
    online: s.online,
  };
}

/** Exponentially weighted moving average, weight 0.2 on the newest sample. */
export function ewma(previous: number | null, sample: number): number {
  return previous === null ? sample : previous * 0.8 + sample * 0.2;
}
