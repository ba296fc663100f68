// Per-job event fan-out: streamed text to SSE clients and completion to anyone waiting.
import type { JobRecord } from "@tessera/core";

export type JobEvent = { type: "chunk"; text: string } | { type: "done"; job: JobRecord };
export type JobListener = (e: JobEvent) => void;

export class JobEvents {
  private readonly listeners = new Map<string, Set<JobListener>>();

  on(jobId: string, listener: JobListener): () => void {
    let set = this.listeners.get(jobId);
    if (!set) {
      set = new Set();
      this.listeners.set(jobId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }

  emit(jobId: string, e: JobEvent): void {
    const set = this.listeners.get(jobId);
    if (!set) return;
    for (const l of [...set]) l(e);
    if (e.type === "done") this.listeners.delete(jobId);
  }
}

/**
 * What a consumer's stream has already been sent. A retried attempt of a deterministic job
 * replays the same text, so only what lies beyond the forwarded prefix is sent again. The
 * current attempt's tokens, the UTF-8 bytes of its text and its prompt's token count (as its
 * first chunk said) are what a stop bills (core's streamedUnits).
 */
export interface StreamCursor {
  attempt: number;
  attemptChars: number;
  forwardedChars: number;
  attemptTokens: number;
  attemptBytes: number;
  /** the first count an attempt's chunks gave: a later chunk cannot raise it */
  attemptPromptTokens?: number;
}

export const NO_STREAM: StreamCursor = {
  attempt: 0,
  attemptChars: 0,
  forwardedChars: 0,
  attemptTokens: 0,
  attemptBytes: 0,
};

export function advanceStream(
  cursor: StreamCursor,
  attempt: number,
  text: string,
  tokens = 0,
  promptTokens?: number,
): { cursor: StreamCursor; fresh: string } {
  const c = attempt === cursor.attempt ? cursor : { ...NO_STREAM, attempt, forwardedChars: cursor.forwardedChars };
  const start = c.attemptChars;
  const end = start + text.length;
  const fresh = end > c.forwardedChars ? text.slice(Math.max(0, c.forwardedChars - start)) : "";
  return {
    cursor: {
      attempt,
      attemptChars: end,
      forwardedChars: Math.max(c.forwardedChars, end),
      attemptTokens: c.attemptTokens + tokens,
      attemptBytes: c.attemptBytes + Buffer.byteLength(text),
      attemptPromptTokens: c.attemptPromptTokens ?? promptTokens,
    },
    fresh,
  };
}
