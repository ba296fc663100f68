// A connected provider as the engine sees it: what it offers, how it has done, how to reach it.

import type { ProviderView } from "@tessera/core";
import { reputationOf } from "@tessera/core";
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
  /** reputation from verification records (verification/start.ts); the completion record until set */
  reputation?: () => number;
  send(msg: GatewayMessage): void;
  close(code: number, reason: string): void;
}

/** `wasmMemoryUsedMb`: the memory limits of its running WASM jobs (0: what it could take at all). */
export function toView(s: ProviderSession, running: number, maxJobCost?: bigint, wasmMemoryUsedMb = 0): ProviderView {
  const budget = s.capabilities.wasmMemoryMb;
  return {
    ...(maxJobCost === undefined ? {} : { maxJobCost }),
    ...(budget === undefined ? {} : { wasmMemoryFreeMb: budget - wasmMemoryUsedMb }),
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
