// A read that many dashboards ask for at once is computed at most once per `ttlMs`, and
// callers that arrive while it is being computed share the same answer.
export function cached<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  let at = 0;
  return () => {
    const now = Date.now();
    if (!value || now - at > ttlMs) {
      at = now;
      value = compute();
      value.catch(() => {
        value = undefined;
      });
    }
    return value;
  };
}
