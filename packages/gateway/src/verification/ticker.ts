// A periodic task that never runs twice at once: the next run is scheduled when the previous one
// has ended, so a slow run (a busy store) delays the next instead of overlapping it.

export interface Ticker {
  stop(): void;
}

/** Runs `fn` every `ms` ms after the previous run ended; a failed run is reported and the next goes on. */
export function tickEvery(ms: number, fn: () => Promise<void>, onError: (err: unknown) => void): Ticker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(run, ms);
    timer.unref();
  };
  const run = () => {
    fn().catch(onError).finally(schedule);
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
