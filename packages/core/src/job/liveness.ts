// Timing rules both ends of the provider channel share, on the monotonic clock: when a process
// must take a late timer for its own stall rather than blame the other end, and how long a
// heartbeating node may stay quiet before the gateway stops leasing to it.

/** the shortest lateness taken for a stall, whatever the heartbeat period */
export const MIN_STALL_MS = 1_000;

/**
 * Whether a timer that fired `lateMs` after it was due means this process stood still (SIGSTOP, a
 * paused VM, a starved host): later than a heartbeat period, and than MIN_STALL_MS. The other
 * end's messages from meanwhile are then still unread, so silence from it proves nothing yet.
 */
export function isOwnStall(lateMs: number, heartbeatMs: number): boolean {
  return lateMs > Math.max(heartbeatMs, MIN_STALL_MS);
}

/** heartbeat periods a node may miss before it counts as silent */
export const SILENT_AFTER_HEARTBEATS = 2;
const MIN_SILENT_MS = 2_000;

/**
 * How long the gateway may go without reading a frame of a heartbeating node before it leases the
 * node nothing more: a lease to a node frozen, asleep with its socket open or cut off would wait
 * out the lease and cost its job an attempt. At least 2 s, so that a short heartbeat period does
 * not pass over a node for a scheduling hiccup.
 */
export function silentAfterMs(heartbeatMs: number): number {
  return Math.max(SILENT_AFTER_HEARTBEATS * heartbeatMs, MIN_SILENT_MS);
}
