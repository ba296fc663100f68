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
 * Delay before reconnect number `attempt` (0-based): the ceiling doubles from `initialMs`
 * up to `maxMs`, and the delay is drawn uniformly from its upper half ("equal jitter").
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
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
