// One job's whole trail: submit, escrow, each lease and attempt, output, the signed result
// (checked here, in the page), settlement postings and audit verdicts.
import { useCallback, useEffect, useState } from "preact/hooks";
import { useApi, useLive } from "../api.js";
import { credits, num, short, time } from "../format.js";
import { Link } from "../router.js";
import { canonicalSha256, type Verdict, verifyResult } from "../verify.js";
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
interface JobDetail {
  visibleToYou: boolean;
  auditsRecorded: boolean;
  audits: { verdict: string; at: number; verifier?: string }[];
  attempts: Attempt[];
  postings: Posting[];
  job: {
    id: string;
    status: string;
    runtime: string;
    target: string | null;
    class: string;
    consumer: string;
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
    output: { text?: string; data?: string; tokens?: number[] } | null;
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

function steps(d: JobDetail): Step[] {
  const { job } = d;
  const out: Step[] = [{ at: job.createdAt, title: "Submitted", body: `${job.class} ${job.runtime} job for ${short(job.target, 16)} by consumer ${job.consumer}` }];
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
    out.push({ at: p.at, title: p.kind === "settle" ? "Settled" : p.kind === "refund" ? "Refunded" : p.kind, body: `${credits(p.amount)} credits: ${p.from} → ${p.to}` });
  for (const a of d.audits) out.push({ at: a.at, title: `Audit: ${a.verdict}`, body: a.verifier ? `by ${a.verifier}` : "", tone: a.verdict === "pass" ? "good" : "bad" });
  return out.sort((a, b) => a.at - b.at);
}

export function JobPage(props: { id: string }) {
  const { data, error, reload } = useApi<JobDetail>(`/v1/explorer/jobs/${props.id}`, {}, [props.id]);
  const onLive = useCallback(
    (event: string, d: unknown) => {
      if (event === "jobs" && (d as { jobs: { id: string }[] }).jobs.some((j) => j.id === props.id)) reload();
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
            {!data.auditsRecorded ? <li class="muted">No audits yet: verdicts appear here once verification audits this job.</li> : null}
          </ol>
        </section>
        <section class="card">
          <h2>Signed result</h2>
          <SignatureCheck d={data} />
          <h2>Output</h2>
          {data.visibleToYou ? (
            <pre class="output" data-testid="output">{job.output?.text ?? (job.output?.data ? atob(job.output.data) : "(none yet)")}</pre>
          ) : (
            <p class="muted">The input and output are shown to the job's owner only: enter its API key under My account.</p>
          )}
        </section>
      </div>
    </div>
  );
}
