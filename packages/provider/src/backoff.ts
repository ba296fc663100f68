// Reconnect pacing: exponential backoff with jitter, so that a gateway restart is not met by
// every provider redialling in the same millisecond.

export interface BackoffOptions {
  /** ceiling of the first delay */
  initialMs: number;
  /** ceiling never grows past this */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

/**
 * The ceiling while the node holds work the gateway is waiting for (running leases, results not
 * yet acknowledged). The gateway keeps such a lease through a dropped connection for 2 s
 * (disconnectGraceMs) and through its own restart for 8 s (restartGraceMs); a node back later
 * loses the run and its pay, and the job an attempt. At most 1 s between dials brings it back
 * inside the grace, where 10 s (the default largest delay) often did not.
 */
export const HOLDING_BACKOFF_MAX_MS = 1_000;

/**
 * How long after a drop the holding ceiling applies. Past every grace the leases are gone anyway,
 * and a node whose result the gateway keeps refusing by closing the socket must not dial every
 * second forever.
 */
export const HOLDING_REDIAL_WINDOW_MS = 30_000;

/**
 * Delay before reconnect number `attempt` (0-based): the ceiling doubles from `initialMs`
 * up to `maxMs` (HOLDING_BACKOFF_MAX_MS when `holding`), and the delay is drawn uniformly from
 * its upper half ("equal jitter").
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
  holding = false,
): number {
  const maxMs = holding ? Math.min(options.maxMs, HOLDING_BACKOFF_MAX_MS) : options.maxMs;
  const ceiling = Math.min(maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * A session must stay up this long before a drop redials from the first step again. Resetting
 * on every welcome let a gateway that welcomes and then drops the node (a frame it cannot take,
 * a crash loop) be redialled every ~100 ms forever.
 */
export const STABLE_SESSION_MS = 30_000;

/**
 * The backoff step for the redial after a connection closes: back to 0 after a session that
 * stayed up for `stableMs`, else the next step. `upMs` is undefined when no session began.
 */
export function nextAttempt(attempt: number, upMs: number | undefined, stableMs = STABLE_SESSION_MS): number {
  return upMs !== undefined && upMs >= stableMs ? 0 : attempt;
}
