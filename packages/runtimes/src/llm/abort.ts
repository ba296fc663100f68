// Cancellation: a job whose signal fires stops between tokens and rejects with this error, which
// callers recognise by name like the platform's own AbortError.

export class AbortError extends Error {
  readonly code = "ABORT_ERR";
  constructor(message = "the job was aborted") {
    super(message);
    this.name = "AbortError";
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(reasonText(signal.reason));
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error && reason.message) return `the job was aborted: ${reason.message}`;
  if (typeof reason === "string" && reason) return `the job was aborted: ${reason}`;
  return "the job was aborted";
}
