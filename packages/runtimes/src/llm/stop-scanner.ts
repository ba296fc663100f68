// Stop strings over streamed text: text that might be the start of a stop string is held back
// until it is known not to be, so nothing after (or of) a stop string is ever streamed.

export interface ScanResult {
  /** text safe to stream now */
  emit: string;
  /** true once a stop string was found; `emit` then ends right before it */
  stopped: boolean;
}

export class StopScanner {
  private text = "";
  private emitted = 0;
  private readonly maxLen: number;

  constructor(private readonly stops: readonly string[]) {
    this.maxLen = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  push(piece: string): ScanResult {
    this.text += piece;
    // A match cannot start inside already-emitted text: any prefix of a stop string at the end
    // of the text is always held back (see holdBack), so searching from `emitted` is complete.
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, this.emitted);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const emit = this.text.slice(this.emitted, cut);
      this.emitted = cut;
      this.text = this.text.slice(0, cut);
      return { emit, stopped: true };
    }
    const end = this.text.length - this.holdBack();
    const emit = this.text.slice(this.emitted, end);
    this.emitted = end;
    return { emit, stopped: false };
  }

  /** Everything not yet emitted (at the end of generation, when no stop can complete any more). */
  flush(): string {
    const emit = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return emit;
  }

  /** length of the longest suffix of the unemitted text that is a proper prefix of a stop string */
  private holdBack(): number {
    const tail = this.text.slice(Math.max(this.emitted, this.text.length - this.maxLen + 1));
    for (let n = tail.length; n > 0; n--) {
      const suffix = tail.slice(tail.length - n);
      if (this.stops.some((s) => s.length > n && s.startsWith(suffix))) return n;
    }
    return 0;
  }
}
