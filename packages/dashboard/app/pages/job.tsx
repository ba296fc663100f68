// One job's whole trail: submit, escrow, each lease and attempt, output, the signed result
// (checked here, in the page), settlement postings, and its audits with each signed verdict
// (also checked here) and the margins the verifier measured.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { useApi, useLive } from "../api.js";
import { credits, num, short, time } from "../format.js";
import { Link } from "../router.js";
import { canonicalSha256, type Verdict, verifyResult, verifyVerdict } from "../verify.js";
import { StatusBadge } from "./jobs.js";

interface Attempt {
  attempt: number;
  providerId: string;
  leasedAt: number;
  endedAt: number | null;
  outcome: string;
  reason: string | null;
}
interface Posting {
  id: number;
  eventId: string;
  kind: string;
  at: number;
  from: string;
  to: string;
  amount: string;
}
export interface VerdictEntry {
  verifier: string;
  pass: boolean;
  signature: string;
  checks: string[];
  reasons: string[];
  metrics: Record<string, number>;
  elapsedMs: number;
  at: number;
}
export interface AuditEntry {
  id: string;
  kind: "sampled" | "canary";
  /** void: a verifier canary made of this result under another job's spec; nothing judged of the provider */
  status: "pending" | "passed" | "slashed" | "void";
  createdAt: number;
  decidedAt: number | null;
  verdicts: VerdictEntry[];
}
interface JobDetail {
  visibleToYou: boolean;
  auditsRecorded: boolean;
  audits: AuditEntry[];
  attempts: Attempt[];
  postings: Posting[];
  job: {
    id: string;
    status: string;
    runtime: string;
    target: string | null;
    class: string;
    consumer: string | null;
    provider: string | null;
    spec: Record<string, unknown>;
    attempts: number;
    maxAttempts: number;
    createdAt: number;
    startedAt: number | null;
    finishedAt: number | null;
    escrow: string;
    cost: string | null;
    pricePerUnit: number | null;
    units: { inputTokens: number; outputTokens: number; standardUnits: number } | null;
    /** a WASM job that ran out of fuel or trapped has `outOfFuel` or `trap` and no data */
    output: { text?: string; data?: string; tokens?: number[]; outOfFuel?: true; trap?: string } | null;
    outputHash: string | null;
    signature: string | null;
    error: string | null;
  };
}

interface Step {
  at: number;
  title: string;
  body: preact.ComponentChildren;
  tone?: "good" | "bad";
}

function SignatureCheck(props: { d: JobDetail }) {
  const { job } = props.d;
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [hashOk, setHashOk] = useState<boolean | null>(null);
  useEffect(() => {
    if (!job.signature || !job.provider || !job.outputHash || !job.units) return;
    verifyResult(job.provider, { jobId: job.id, attempt: job.attempts, outputHash: job.outputHash, units: job.units }, job.signature).then(setVerdict);
    if (job.output) canonicalSha256(job.output).then((h) => setHashOk(h === job.outputHash));
  }, [job.id, job.signature]);
  if (!job.signature) return <p class="muted">No signed result (the job did not complete).</p>;
  const state = verdict?.state ?? "checking";
  return (
    <div class={`signature ${state}`} data-testid="signature-verdict" data-state={state}>
      <div class="verdict">
        {state === "valid" ? "✔ Signature valid" : state === "invalid" ? "✘ Signature INVALID" : state === "unsupported" ? "? Cannot check here" : "Checking…"}
      </div>
      <p class="muted small">
        Checked in this browser with WebCrypto Ed25519 against the provider's public key <span class="mono">{short(job.provider, 16)}</span>, over the canonical JSON
        (RFC 8785) below. Nothing the gateway says is trusted for this check.
      </p>
      {verdict && "reason" in verdict ? <p class="error">{verdict.reason}</p> : null}
      <dl class="facts">
        <dt>Signature</dt>
        <dd class="mono wrap">{job.signature}</dd>
        <dt>Signed bytes</dt>
        <dd class="mono wrap">{verdict && "bytes" in verdict ? verdict.bytes : "…"}</dd>
        <dt>Output hash</dt>
        <dd class="mono wrap">
          {job.outputHash}{" "}
          {hashOk === null ? (
            <span class="muted">(output visible to its owner only)</span>
          ) : hashOk ? (
            <span class="good" data-testid="hash-verdict">
              ✔ matches the output shown
            </span>
          ) : (
            <span class="bad" data-testid="hash-verdict">
              ✘ does not match the output
            </span>
          )}
        </dd>
      </dl>
    </div>
  );
}

const POSTING_TITLES: Record<string, string> = { settle: "Settled", refund: "Refunded", slash: "Slashed", audit_fee: "Audit fee" };

/** One verdict: its verifier, result, what was checked and measured, and its signature checked in the page. */
function VerdictCard(props: { audit: AuditEntry; v: VerdictEntry; jobId: string; outputHash: string | null }) {
  const { audit, v } = props;
  const [check, setCheck] = useState<Verdict | null>(null);
  useEffect(() => {
    if (!props.outputHash) return;
    verifyVerdict(v.verifier, { auditId: audit.id, jobId: props.jobId, outputHash: props.outputHash, pass: v.pass }, v.signature).then(setCheck);
  }, [audit.id, v.verifier, v.signature]);
  const state = check?.state ?? (props.outputHash ? "checking" : "unsupported");
  const metrics = Object.entries(v.metrics);
  return (
    <div class={`verdict-card ${v.pass ? "pass" : "fail"}`} data-testid="verdict" data-verifier={v.verifier} data-pass={String(v.pass)}>
      <div class="verdict-head">
        <strong class={v.pass ? "good" : "bad"}>{v.pass ? "✔ pass" : "✘ fail"}</strong> by verifier{" "}
        <span data-testid="verdict-verifier">
          <Link href={`/providers/${v.verifier}`} class="mono" title={v.verifier}>
            {short(v.verifier, 16)}
          </Link>
        </span>{" "}
        <span class="muted small">
          {time(v.at)} · checked in {Math.round(v.elapsedMs)} ms
        </span>
      </div>
      <dl class="facts">
        <dt>Checks</dt>
        <dd>{v.checks.length ? v.checks.join(", ") : "—"}</dd>
        {v.reasons.length ? (
          <>
            <dt>Reasons</dt>
            <dd class="bad">{v.reasons.join("; ")}</dd>
          </>
        ) : null}
        <dt>Margins</dt>
        <dd>
          {metrics.length === 0 ? (
            <span class="muted">none recorded</span>
          ) : (
            <table class="metrics" data-testid="verdict-metrics">
              <tbody>
                {metrics.map(([k, x]) => (
                  <tr key={k} data-metric={k}>
                    <td>{k}</td>
                    <td class="r mono">{Number.isInteger(x) ? x : x.toPrecision(4)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </dd>
        <dt>Signature</dt>
        <dd class="mono wrap">
          {v.signature}{" "}
          <span class={state === "valid" ? "good" : state === "invalid" ? "bad" : "muted"} data-testid="verdict-signature" data-state={state}>
            {state === "valid" ? "✔ valid" : state === "invalid" ? "✘ INVALID" : state === "unsupported" ? "(cannot check here)" : "checking…"}
          </span>
        </dd>
      </dl>
    </div>
  );
}

/** The job's audits: why each was drawn, its outcome, and every signed verdict. */
function Audits(props: { d: JobDetail }) {
  const { job, audits } = props.d;
  return (
    <section class="card audits" data-testid="audits">
      <h2>Audits</h2>
      {audits.length === 0 ? (
        <p class="muted" data-testid="no-audits">
          {!props.d.auditsRecorded
            ? "This gateway does not record audits."
            : job.status === "completed"
              ? "Not audited: the gateway audits a random sample of settled results (new providers often), and did not draw this one."
              : "Only completed results are audited."}
        </p>
      ) : (
        audits.map((a) => (
          <div key={a.id} class="audit" data-testid="audit" data-status={a.status} data-kind={a.kind}>
            <h3>
              <span class={`badge ${a.status === "passed" ? "completed" : a.status === "slashed" ? "failed" : "queued"}`}>{a.status}</span> {a.kind === "canary" ? "canary audit" : "sampled audit"}{" "}
              <span class="mono small muted">{a.id}</span>
            </h3>
            <p class="muted small">
              Drawn {time(a.createdAt)}
              {a.decidedAt !== null ? ` · decided ${time(a.decidedAt)}` : " · waiting for verdicts"}. Each verdict is signed by its verifier over the RFC 8785 bytes of{" "}
              <span class="mono">{"{ domain: \"tessera.verdict.v1\", auditId, jobId, outputHash, pass }"}</span>, checked in this browser.
            </p>
            {a.verdicts.length === 0 ? <p class="muted">No verdict yet.</p> : null}
            {a.verdicts.map((v) => (
              <VerdictCard key={v.verifier} audit={a} v={v} jobId={job.id} outputHash={job.outputHash} />
            ))}
          </div>
        ))
      )}
    </section>
  );
}

function steps(d: JobDetail): Step[] {
  const { job } = d;
  const out: Step[] = [{ at: job.createdAt, title: "Submitted", body: `${job.class} ${job.runtime} job for ${short(job.target, 16)} by ${job.consumer ? `consumer ${job.consumer}` : "a consumer (private)"}` }];
  for (const p of d.postings.filter((p) => p.kind === "escrow"))
    out.push({ at: p.at, title: "Escrowed", body: `${credits(p.amount)} credits moved from ${p.from} to ${p.to}` });
  for (const a of d.attempts) {
    out.push({ at: a.leasedAt, title: `Attempt ${a.attempt}: leased`, body: <>to provider <Link href={`/providers/${a.providerId}`} class="mono">{short(a.providerId, 16)}</Link></> });
    if (a.endedAt)
      out.push({
        at: a.endedAt,
        title: `Attempt ${a.attempt}: ${a.outcome}`,
        body: a.reason ?? (a.outcome === "completed" ? "signed result accepted" : ""),
        tone: a.outcome === "completed" ? "good" : "bad",
      });
  }
  for (const p of d.postings.filter((p) => p.kind !== "escrow"))
    out.push({
      at: p.at,
      title: POSTING_TITLES[p.kind] ?? p.kind,
      body: `${credits(p.amount)} credits: ${p.from} → ${p.to}`,
      ...(p.kind === "slash" ? { tone: "bad" as const } : {}),
    });
  for (const a of d.audits) {
    out.push({ at: a.createdAt, title: `Audit drawn (${a.kind})`, body: <span class="mono">{a.id}</span> });
    for (const v of a.verdicts)
      out.push({
        at: v.at,
        title: `Verdict: ${v.pass ? "pass" : "fail"}`,
        body: (
          <>
            by verifier <Link href={`/providers/${v.verifier}`} class="mono">{short(v.verifier, 16)}</Link>
          </>
        ),
        tone: v.pass ? "good" : "bad",
      });
    if (a.decidedAt !== null)
      out.push(
        a.status === "void"
          ? { at: a.decidedAt, title: "Verifier canary: this result was checked against another job's spec; nothing judged of the provider", body: "", tone: "good" }
          : { at: a.decidedAt, title: a.status === "slashed" ? "Audit failed: provider slashed" : "Audit passed", body: "", tone: a.status === "slashed" ? "bad" : "good" },
      );
  }
  return out.sort((a, b) => a.at - b.at);
}

export function JobPage(props: { id: string }) {
  const { data, error, reload } = useApi<JobDetail>(`/v1/explorer/jobs/${encodeURIComponent(props.id)}`, {}, [props.id]);
  // audits are drawn and decided after the job has settled, with no job event: while an audit is
  // pending, or for a minute after the job finished without one, each overview sample reloads
  const pending = useRef(false);
  pending.current =
    !!data &&
    (data.audits.some((a) => a.status === "pending") ||
      (data.audits.length === 0 && data.job.status === "completed" && (data.job.finishedAt ?? 0) > Date.now() - 60_000));
  const onLive = useCallback(
    (event: string, d: unknown) => {
      if (event === "jobs" && (d as { jobs: { id: string }[] }).jobs.some((j) => j.id === props.id)) reload();
      else if (event === "sample" && pending.current) reload();
    },
    [props.id],
  );
  useLive(onLive);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  const { job } = data;
  return (
    <div>
      <p>
        <Link href="/jobs">← Jobs</Link>
      </p>
      <h1>
        Job <span class="mono small">{job.id}</span> <StatusBadge status={job.status} />
      </h1>
      <div class="stats">
        <div class="stat">
          <div class="label">Escrow</div>
          <div class="value">{credits(job.escrow)}</div>
        </div>
        <div class="stat">
          <div class="label">Cost</div>
          <div class="value">{credits(job.cost)}</div>
        </div>
        <div class="stat">
          <div class="label">Standard units</div>
          <div class="value">{num(job.units?.standardUnits)}</div>
        </div>
        <div class="stat">
          <div class="label">Tokens in / out</div>
          <div class="value">{job.units ? `${job.units.inputTokens} / ${job.units.outputTokens}` : "—"}</div>
        </div>
        <div class="stat">
          <div class="label">Attempts</div>
          <div class="value">
            {job.attempts} of {job.maxAttempts}
          </div>
        </div>
      </div>
      {job.error ? <p class="error">{job.error}</p> : null}
      <div class="grid two">
        <section class="card">
          <h2>Trail</h2>
          <ol class="trail" data-testid="trail">
            {steps(data).map((s, i) => (
              <li key={i} class={s.tone}>
                <div class="when">{time(s.at)}</div>
                <div class="what">{s.title}</div>
                <div class="muted">{s.body}</div>
              </li>
            ))}
          </ol>
        </section>
        <section class="card">
          <h2>Signed result</h2>
          <SignatureCheck d={data} />
          <h2>Output</h2>
          {data.visibleToYou ? (
            <pre class="output" data-testid="output">{outputText(job.output)}</pre>
          ) : (
            <p class="muted">The input and output are shown to the job's owner only: enter its API key under My account.</p>
          )}
        </section>
      </div>
      <Audits d={data} />
    </div>
  );
}

/** What the owner sees of an output: text, WASM bytes as text, or why there is none. */
function outputText(output: JobDetail["job"]["output"]): string {
  if (!output) return "(none yet)";
  if (output.text !== undefined) return output.text;
  if (output.outOfFuel) return "(none: the job ran out of fuel)";
  if (output.trap !== undefined) return `(none: ${output.trap})`;
  return output.data ? atob(output.data) : "";
}
