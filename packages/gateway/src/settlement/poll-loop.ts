// A pass run again every pollMs until stopped, for the gateway's chain loops (log mirror,
// withdrawals): the next pass starts only after the last one ended, a failed pass is logged and
// retried at the next tick, and stop() waits for the pass in flight and schedules none after it.
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(pollMs: number): void {
    const tick = () => {
      this.running = this.pass()
        .catch(this.onError)
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, pollMs);
          this.timer.unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
