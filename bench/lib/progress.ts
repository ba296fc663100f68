// Progress on stderr: cli-progress bars on a terminal, and a plain line every few seconds
// when stderr is a file or a CI log, so a long run never looks hung.
import cliProgress from "cli-progress";

export interface Bar {
  update(value: number, payload?: Record<string, string | number>): void;
  increment(by?: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

let multi: cliProgress.MultiBar | undefined;

function bars(): cliProgress.MultiBar {
  multi ??= new cliProgress.MultiBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 3000,
      format: " {phase} |{bar}| {value}/{total} {unit} | {detail}",
      barsize: 28,
    },
    cliProgress.Presets.shades_classic,
  );
  return multi;
}

/** A bar for one phase of a bench; `detail` is a free-form status shown at its end. */
export function startBar(phase: string, total: number, unit: string): Bar {
  const payload = { phase: phase.padEnd(28), unit, detail: "" };
  const bar = bars().create(total, 0, payload);
  return {
    update: (value, p) => bar.update(value, p ? { ...payload, ...p } : payload),
    increment: (by = 1, p) => bar.increment(by, p ? { ...payload, ...p } : payload),
    stop: () => bar.stop(),
  };
}

/** Stops all bars (and the redraw timer) so that following output starts on a clean line. */
export function stopBars(): void {
  multi?.stop();
  multi = undefined;
}

/** A status line on stderr that does not fight with the bars. */
export function note(line: string): void {
  if (multi) multi.log(`${line}\n`);
  else process.stderr.write(`${line}\n`);
}
