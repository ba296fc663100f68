// What the scheduler sees of a provider: a snapshot the gateway builds from live sessions.
import type { Capabilities } from "@tessera/protocol";

export interface ProviderView {
  id: string;
  capabilities: Capabilities;
  /** jobs currently leased to it */
  running: number;
  /** 0..1 */
  reputation: number;
  /** smoothed time from lease to result per standard unit of work, ms; null until measured */
  latencyMs: number | null;
  draining: boolean;
  online: boolean;
  /**
   * the most a job leased to it may cost (escrow): what its stake leaves after the slashes its jobs
   * in flight could take, over the slash multiple (audit/policy's maxJobCost), so that the slashes
   * of all the jobs it could cheat on at once are each the full multiple; absent, no limit. A
   * scheduling round takes each job it assigns off it (schedule.ts).
   */
  maxJobCost?: bigint;
  /**
   * MiB of its WASM memory budget (capabilities.wasmMemoryMb) that the memory limits of its running
   * WASM jobs and of its WASM audits leave (match.ts's wasmMemoryFreeMb); absent when it advertises
   * no budget. A scheduling round takes each WASM job it assigns off it.
   */
  wasmMemoryFreeMb?: number;
}
