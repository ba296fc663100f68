// How every command fails: one line on stderr that says what went wrong (never a stack trace
// for an ordinary mistake), `{ "error": { code, message } }` on stdout with --json, exit code 1.

interface Described {
  code: string | null;
  message: string;
}

/** The gateway's refusals keep their code; a network failure says what could not be reached. */
export function describeFailure(e: unknown): Described {
  if (typeof e === "string") return { code: null, message: e };
  const err = e as {
    code?: unknown;
    message?: string;
    cause?: { code?: string; message?: string };
    issues?: unknown[];
  };
  if (e instanceof TypeError && err.message === "fetch failed") {
    const why = err.cause?.message ?? err.cause?.code ?? "no answer";
    return { code: "unreachable", message: `cannot reach the gateway: ${why}` };
  }
  if (Array.isArray(err.issues) && err.issues.length > 0) {
    const issue = err.issues[0] as { path?: unknown[]; message?: string };
    const where = issue.path && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { code: "invalid", message: `${where}${issue.message ?? "invalid"}` };
  }
  // viem's errors carry a one-line summary beside a message of many lines (request, docs, version)
  const short = (e as { shortMessage?: unknown }).shortMessage;
  const message = typeof short === "string" && short ? short : (err.message ?? String(e));
  return { code: typeof err.code === "string" ? err.code : null, message };
}

export function reportFailure(e: unknown, json: boolean): void {
  const d = describeFailure(e);
  if (json) process.stdout.write(`${JSON.stringify({ error: d })}\n`);
  process.stderr.write(`error: ${d.code && !d.message.startsWith(d.code) ? `${d.code}: ` : ""}${d.message}\n`);
  process.exitCode = 1;
}
