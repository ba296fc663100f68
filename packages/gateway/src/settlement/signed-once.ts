// A node's signed request that changes something is carried out once. Its signature alone would be
// good for the whole window (NODE_AUTH_WINDOW_MS), so anyone who saw one request could repeat it; the
// gateway remembers each accepted signature until its time leaves the window, and refuses requests
// signed before it started, whose signatures it no longer remembers.
import { NODE_AUTH_HEADERS, NODE_AUTH_WINDOW_MS } from "@tessera/protocol";

export type SignedOnceVerdict = "new" | "replayed" | "before-start";

export class SignedOnce {
  /** signature → when it leaves the window; insertion order is close to expiry order */
  private readonly seen = new Map<string, number>();

  constructor(private readonly startedAt: number) {}

  /** Takes a verified request's signature: new (now remembered), already seen, or older than this gateway. */
  take(headers: Record<string, string | string[] | undefined>, now: number): SignedOnceVerdict {
    const signature = String(headers[NODE_AUTH_HEADERS.signature]);
    const time = Number(headers[NODE_AUTH_HEADERS.time]);
    if (time < this.startedAt) return "before-start";
    for (const [sig, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(sig);
    }
    if (this.seen.has(signature)) return "replayed";
    this.seen.set(signature, time + NODE_AUTH_WINDOW_MS);
    return "new";
  }
}
