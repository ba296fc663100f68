// An append-only JSONL file written in chunks rather than a line at a time. A busy batch finishes
// hundreds of lines a second, and one write per line cost the gateway ~8 % of its CPU in a profile.
// Lines held here and lost in a crash are not lost work: on restart the runner finds those lines
// missing from the file and takes their jobs back by idempotency key, so each still ends in the
// output exactly once.
import { createWriteStream, type WriteStream } from "node:fs";

/** Held text above this is written at once, so memory stays bounded however fast lines finish. */
const HIGH_WATER = 64 * 1024;

export class LineSink {
  private readonly stream: WriteStream;
  private held: string[] = [];
  private heldBytes = 0;
  /** the first write error (a full disk): without a listener it would be thrown and end the gateway */
  private failure: Error | undefined;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: "a" });
    this.stream.on("error", (e) => {
      this.failure ??= e;
    });
  }

  push(line: string): void {
    this.held.push(line, "\n");
    this.heldBytes += line.length + 1;
    if (this.heldBytes >= HIGH_WATER) this.flush();
  }

  flush(): void {
    if (this.held.length === 0 || this.failure) return;
    this.stream.write(this.held.join(""));
    this.held = [];
    this.heldBytes = 0;
  }

  /**
   * Writes what is held and closes the file once everything is on it; rejects when a write
   * failed, so the batch is not recorded as past running with lines that never reached the file.
   */
  end(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.flush();
    return new Promise((resolve, reject) => {
      this.stream.once("error", reject);
      this.stream.end((e?: Error | null) => {
        const failed = e ?? this.failure;
        if (failed) reject(failed);
        else resolve();
      });
    });
  }
}
