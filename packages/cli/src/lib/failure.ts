// How every command fails: one line on stderr that says what went wrong (never a stack trace
// for an ordinary mistake), `{ "error": { code, message } }` on stdout with --json, exit code 1.

interface Described {
  /** the error's own code (a gateway refusal's, a system call's), else one from what failed */
  code: string;
  message: string;
}

/** The code and whether it came with the error (shown on the human line) or was inferred here. */
interface Classified extends Described {
  own: boolean;
}

/** viem's HttpRequestError (alone or under the call that made the request): the RPC endpoint failed. */
function rpcFailure(e: unknown): Described | undefined {
  for (
    let x = e as { name?: unknown; url?: unknown; status?: unknown; cause?: unknown } | undefined, depth = 0;
    x && depth < 8;
    x = x.cause as typeof x, depth++
  ) {
    if (x.name !== "HttpRequestError" || typeof x.url !== "string") continue;
    if (typeof x.status === "number")
      return { code: "rpc_error", message: `the chain at ${x.url} answered HTTP ${x.status}` };
    const fetchErr = x.cause as { message?: string; cause?: { message?: string; code?: string } } | undefined;
    const why = fetchErr?.cause?.message ?? fetchErr?.cause?.code ?? fetchErr?.message ?? "no answer";
    return { code: "rpc_unreachable", message: `cannot reach the chain at ${x.url}: ${why}` };
  }
  return undefined;
}

/** A code for a failure that carries none: a flag's mistake, the chain's, or just "failed". */
function inferredCode(message: string, viem: boolean): string {
  if (message.startsWith("--")) return "invalid_argument";
  return viem ? "chain_error" : "failed";
}

function classify(e: unknown): Classified {
  if (typeof e === "string") return { code: inferredCode(e, false), message: e, own: false };
  const err = e as {
    code?: unknown;
    message?: string;
    cause?: { code?: string; message?: string };
    issues?: unknown[];
  };
  if (e instanceof TypeError && err.message === "fetch failed") {
    const why = err.cause?.message ?? err.cause?.code ?? "no answer";
    return { code: "unreachable", message: `cannot reach the gateway: ${why}`, own: true };
  }
  if (Array.isArray(err.issues) && err.issues.length > 0) {
    const issue = err.issues[0] as { path?: unknown[]; message?: string };
    const where = issue.path && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { code: "invalid", message: `${where}${issue.message ?? "invalid"}`, own: true };
  }
  const rpc = rpcFailure(e);
  if (rpc) return { ...rpc, own: true };
  // viem's errors carry a one-line summary beside a message of many lines (request, docs, version)
  const short = (e as { shortMessage?: unknown }).shortMessage;
  const viem = typeof short === "string" && short !== "";
  const message = viem ? short : (err.message ?? String(e));
  if (typeof err.code === "string") return { code: err.code, message, own: true };
  return { code: inferredCode(message, viem), message, own: false };
}

/** The gateway's refusals keep their code; a network failure says what could not be reached. */
export function describeFailure(e: unknown): Described {
  const { code, message } = classify(e);
  return { code, message };
}

export function reportFailure(e: unknown, json: boolean): void {
  const { code, message, own } = classify(e);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  // an inferred code adds nothing to the human line: the message already names the flag
  process.stderr.write(`error: ${own && !message.startsWith(code) ? `${code}: ` : ""}${message}\n`);
  process.exitCode = 1;
}
